"""`make_app`: one aiohttp application serving every simulated provider under its name.

Builds the app; no I/O until it is run, except opening `SimConfig.state_file` when one is
set (see `persistence`). Mount points: `/novita`, `/highway`, `/gmi`, `/aimlapi`,
`/minimax`, `/fal`, `/replicate`, each followed by the provider's real paths;
`GET /_sim/stats` answers the ledger as JSON.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from aiohttp import web

from hailuo_batch.simulator import aimlapi, fal, gmi, minimax, novita, replicate
from hailuo_batch.simulator.config import PROVIDER_NAMES, SimConfig
from hailuo_batch.simulator.context import CONTEXT, Shared, answer
from hailuo_batch.simulator.faults import fault_middleware
from hailuo_batch.simulator.firstframes import FirstFrames
from hailuo_batch.simulator.ledger import Ledger
from hailuo_batch.simulator.links import LinkSigner
from hailuo_batch.simulator.persistence import TaskFile
from hailuo_batch.simulator.tasks import Clock, TaskBoard
from hailuo_batch.simulator.video import SHARED, VideoCache

LEDGER = web.AppKey("hailuo_batch.simulator.ledger", Ledger)
BOARDS = web.AppKey("hailuo_batch.simulator.boards", dict[str, TaskBoard])
MAX_BODY = 32 * 1024 * 1024  # a 20 MB image is ~27 MB as a data URI; aiohttp's default is 1 MB


def make_app(
    config: SimConfig, *, clock: Clock = time.monotonic, videos: VideoCache = SHARED
) -> web.Application:
    """The simulator; `clock` (seconds) drives task progress and link expiry.

    With `config.state_file`, it starts knowing the tasks earlier instances accepted there,
    signs links with the file's secret so their links still open, and keeps first-frame
    images beside it. `videos` holds the encoded MP4s (by default shared process-wide).
    """
    ledger = Ledger(PROVIDER_NAMES)
    epoch0 = time.time() - clock()
    state_file = Path(config.state_file) if config.state_file else None
    tasks_file = TaskFile.open(state_file, epoch0) if state_file else None
    links = LinkSigner(tasks_file.secret if tasks_file else os.urandom(32), clock, epoch0)
    shared = Shared(
        config=config,
        ledger=ledger,
        links=links,
        clock=clock,
        epoch0=epoch0,
        tasks_file=tasks_file,
        frames=FirstFrames.beside(state_file),
        videos=videos,
    )
    app = web.Application(middlewares=[fault_middleware(config, ledger)], client_max_size=MAX_BODY)
    app[LEDGER] = ledger
    app.router.add_get("/_sim/stats", stats)
    providers = {
        "novita": novita.build("novita", shared),
        "highway": novita.build("highway", shared),
        "gmi": gmi.build("gmi", shared),
        "aimlapi": aimlapi.build("aimlapi", shared),
        "minimax": minimax.build("minimax", shared),
        "fal": fal.build("fal", shared),
        "replicate": replicate.build("replicate", shared),
    }
    for name, provider in providers.items():
        app.add_subapp(f"/{name}", provider)
    app[BOARDS] = {name: provider[CONTEXT].board for name, provider in providers.items()}
    return app


async def stats(request: web.Request) -> web.Response:
    """What this instance received, per provider and in total (never any key).

    `submitted` counts accepted submits (tasks paid for). `duplicate_submits` counts the
    accepted tasks whose path and JSON body repeat another accepted task's and that the
    client never polled, retrieved or downloaded: paid for and never used, as a lost
    reply followed by a blind resubmit leaves them (two samples of one request, both
    used, are not duplicates). It is computed now, so read it once the run is over;
    `ledger` gives the exact rule. `identical_submits` counts every accepted repeat of a
    body, for information. Counters start from zero in every instance; with a state
    file, the duplicate rule also sees the tasks earlier instances accepted and which of
    them the client asked about.

    `ideal_makespan_s` is the time the tasks created here would have taken had all been
    submitted at once (their actual durations, first come first served on the provider's
    `max_concurrent` slots); the top-level figure is the slowest provider's. A client's
    efficiency is that over its wall time. `slots_full_after_s` (per provider) is the
    time from the first submit's arrival until every slot had a task running (null
    until then).
    """
    snapshot = request.app[LEDGER].snapshot()
    by_provider: dict[str, dict[str, object]] = snapshot["by_provider"]  # type: ignore[assignment]
    ideal = {name: board.ideal_makespan() for name, board in request.app[BOARDS].items()}
    for name, board in request.app[BOARDS].items():
        full = board.slots_full_after()
        by_provider[name]["ideal_makespan_s"] = round(ideal[name], 3)
        by_provider[name]["slots_full_after_s"] = None if full is None else round(full, 3)
    snapshot["ideal_makespan_s"] = round(max(ideal.values(), default=0.0), 3)
    return answer(snapshot)
