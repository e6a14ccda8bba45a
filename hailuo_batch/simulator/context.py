"""What one simulated provider's handlers share, and the steps all providers take alike.

Key check, outages, body parsing, task creation and lookup live here; each provider module
only checks its parameters and words its answers (its `Render`). Builds aiohttp responses
but does no I/O of its own beyond reading request bodies.
"""

from __future__ import annotations

import asyncio
import hmac
import random
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal, get_args

import orjson
from aiohttp import web

from hailuo_batch.simulator.config import SimConfig
from hailuo_batch.simulator.firstframes import FirstFrames
from hailuo_batch.simulator.images import FrameImage
from hailuo_batch.simulator.ledger import Count, Ledger
from hailuo_batch.simulator.links import Link, LinkSigner
from hailuo_batch.simulator.params import InvalidParams
from hailuo_batch.simulator.persistence import TaskFile
from hailuo_batch.simulator.tasks import Clock, Task, TaskBoard
from hailuo_batch.simulator.video import SHARED, VideoCache, VideoSpec

Role = Literal["submit", "poll", "retrieve", "list", "models", "cancel", "download"]
"""What a route does; a route's name starts with its role (`submit.video_01`)."""
ROLES: tuple[Role, ...] = get_args(Role)

RefusalKind = Literal[
    "missing-key",
    "bad-key",
    "balance",
    "down",
    "rate-limit",
    "server-error",
    "not-found",
    "invalid",
]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A condition a provider answers in its own envelope and status code."""

    kind: RefusalKind
    message: str = ""
    status: int = 0  # server-error: which 5xx
    roll: float = 0.0  # a random draw, for conditions a provider answers in more than one way
    problem: InvalidParams | None = None


Render = Callable[[Refusal, web.Request], web.Response]


@dataclass(frozen=True, slots=True)
class Order:
    """An accepted submit as the simulator needs it: label, prompt, and the video to make.

    `echo` is what the provider shows back of the request (GMI's payload, Replicate's input);
    the others show none, and keeping whole bodies (data-URI images) for every task would
    cost memory for nothing there. `first_frame`
    is the first-frame image, whose picture (if a data URI carried it) is kept once per
    distinct image by `FirstFrames`; the task keeps only its digest.
    """

    model: str
    prompt: str
    spec: VideoSpec
    echo: Mapping[str, object] = field(default_factory=dict)
    first_frame: FrameImage | None = None


@dataclass(frozen=True, slots=True)
class Shared:
    """What every provider of one app shares."""

    config: SimConfig
    ledger: Ledger
    links: LinkSigner
    clock: Clock
    epoch0: float  # Unix time of clock zero
    tasks_file: TaskFile | None = None  # where accepted tasks are kept (`SimConfig.state_file`)
    frames: FirstFrames = field(default_factory=FirstFrames)
    videos: VideoCache = SHARED


class ProviderContext:
    """One provider's tasks, ids and answers, and the common request steps.

    With a task file, the provider starts knowing every task earlier instances accepted.
    """

    __slots__ = (
        "board",
        "config",
        "frames",
        "ids",
        "latency",
        "ledger",
        "links",
        "name",
        "render",
        "scheme",
        "tasks_file",
        "videos",
    )

    def __init__(
        self, name: str, shared: Shared, render: Render, *, scheme: str = "Bearer"
    ) -> None:
        self.name = name
        self.scheme = scheme  # of the Authorization header: `Bearer`, or fal's `Key`
        self.config = shared.config
        self.ledger = shared.ledger
        self.links = shared.links
        self.frames = shared.frames
        self.videos = shared.videos
        self.render = render
        self.board = TaskBoard(
            gen_seconds=self.config.gen_seconds,
            jitter=self.config.jitter,
            max_concurrent=self.config.max_concurrent,
            failure_rate=self.config.task_failure_rate,
            rng=seeded(self.config.seed, f"{name}:tasks"),
            clock=shared.clock,
            epoch0=shared.epoch0,
        )
        # Ids never follow the seed: two runs of a seeded simulator must not hand out the
        # same task ids, or a client resuming against a new instance could adopt a stranger.
        self.ids = random.Random()
        self.latency = seeded(self.config.seed, f"{name}:latency")
        self.tasks_file = shared.tasks_file
        for saved in self.tasks_file.restored(name) if self.tasks_file else ():
            self.board.restore(saved.task)
            self.ledger.remember_submit(name, saved.digest, saved.task.id)
        for task_id in self.tasks_file.asked(name) if self.tasks_file else ():
            self.ledger.mark_asked(name, task_id)

    def __repr__(self) -> str:
        return f"<ProviderContext {self.name} {self.board!r}>"

    def refuse(self, request: web.Request, refusal: Refusal) -> web.Response:
        if role_of(request) == "submit":
            self.ledger.count(self.name, "refused")
        return self.render(refusal, request)

    def authorize(self, request: web.Request) -> Refusal | None:
        """The key check; the key is compared, never kept or logged."""
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != self.scheme.lower() or not key.strip():
            return Refusal("missing-key")
        expected = (self.config.valid_keys or {}).get(self.name)
        if expected is not None and not hmac.compare_digest(
            key.strip().encode(), expected.encode()
        ):
            return Refusal("bad-key")
        if self.config.outages.get(self.name) == "auth":
            return Refusal("bad-key")
        return None

    async def accept(
        self,
        request: web.Request,
        check: Callable[[Mapping[str, object]], Order],
        new_id: Callable[[Order], str],
        new_file_id: Callable[[], str] | None = None,
    ) -> Task | web.Response:
        """Run a submit through outage, key, body and parameter checks; create its task.

        `new_file_id` gives the task a file id too, for providers with a file lookup hop.
        """
        self.board.asked()
        outage = self.config.outages.get(self.name)
        if outage == "down":
            return self.refuse(request, Refusal("down"))
        refusal = self.authorize(request)
        if refusal is not None:
            return self.refuse(request, refusal)
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return self.refuse(request, Refusal("invalid", "request body is not valid JSON"))
        if not isinstance(body, dict):
            return self.refuse(request, Refusal("invalid", "request body must be a JSON object"))
        try:
            order = check(body)
        except InvalidParams as problem:
            return self.refuse(request, Refusal("invalid", str(problem), problem=problem))
        if outage == "balance":
            return self.refuse(request, Refusal("balance"))
        low, high = self.config.submit_latency
        if high > 0:
            await asyncio.sleep(self.latency.uniform(low, high))
        image = None
        if order.first_frame is not None and order.first_frame.data is not None:
            image = await asyncio.to_thread(self.frames.add, order.first_frame.data)
        task_id = new_id(order)
        while self.board.get(task_id) is not None:
            task_id = new_id(order)
        task = self.board.create(
            task_id,
            model=order.model,
            prompt=order.prompt,
            echo=order.echo,
            spec=order.spec,
            file_id=new_file_id() if new_file_id is not None else "",
            image=image,
        )
        digest = self.ledger.record_submit(self.name, request.path, body, task.id)
        if self.tasks_file is not None:
            self.tasks_file.append(self.name, task, digest)
        watcher = _created.get()
        if watcher is not None:
            watcher.append(task.id)
        return task

    def lookup(
        self, request: web.Request, task_id: str | None, count: Count, *, missing: str = ""
    ) -> Task | web.Response:
        """Count the request, check the key, find the task or answer not-found (`missing`)."""
        self.ledger.count(self.name, count)
        refusal = self.authorize(request)
        if refusal is not None:
            return self.refuse(request, refusal)
        task = self.board.get(task_id) if task_id else None
        if task is None:
            missing = missing or f"task_id {task_id!r} not found"
            return self.refuse(request, Refusal("not-found", missing))
        self.asked(task.id)
        return task

    def asked(self, task_id: str) -> None:
        """The client asked about a task (see `ledger`); kept in the task file the first time."""
        if self.ledger.mark_asked(self.name, task_id) and self.tasks_file is not None:
            self.tasks_file.append_asked(self.name, task_id)

    def mint(self, task: Task, ttl: float | None = None) -> Link:
        """A fresh link to a task's video (honouring the `deliver_*` overrides), living `ttl`
        seconds where the provider documents its own lifetime, else `SimConfig.url_ttl`."""
        spec = task.spec
        size = self.config.deliver_size or (spec.width, spec.height)
        duration = self.config.deliver_duration or spec.duration
        delivered = VideoSpec(size[0], size[1], duration, spec.audio)
        return self.links.mint(delivered, self.config.url_ttl if ttl is None else ttl, task.id)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.ids.getrandbits(128), version=4))

    def digits(self, count: int = 15) -> str:
        return str(self.ids.randrange(10 ** (count - 1), 10**count))


CONTEXT = web.AppKey("hailuo_batch.simulator.context", ProviderContext)

# Request-scoped flags between the fault middleware and the handlers it wraps (the handler
# runs in the middleware's task, so it sees the middleware's context). Context variables
# rather than `web.RequestKey`, which needs aiohttp 3.14 while the package allows 3.9.
_created: ContextVar[list[str] | None] = ContextVar("simulator_created", default=None)
_truncate: ContextVar[bool] = ContextVar("simulator_truncate", default=False)


@contextmanager
def watching_submits() -> Iterator[list[str]]:
    """Collect the ids of tasks created inside the block (`lost-reply` asks if one was)."""
    created: list[str] = []
    token = _created.set(created)
    try:
        yield created
    finally:
        _created.reset(token)


@contextmanager
def truncating() -> Iterator[None]:
    """Downloads inside the block send half their body, then close the connection."""
    token = _truncate.set(True)
    try:
        yield
    finally:
        _truncate.reset(token)


def truncated() -> bool:
    return _truncate.get()


def seeded(seed: int | None, purpose: str) -> random.Random:
    """An independent random stream per purpose, so one consumer cannot shift another's draws."""
    return random.Random(f"{seed}:{purpose}") if seed is not None else random.Random()


def role_of(request: web.Request) -> Role | None:
    name = request.match_info.route.name or ""
    role = name.partition(".")[0]
    return next((known for known in ROLES if known == role), None)


def answer(data: object, status: int = 200) -> web.Response:
    """A JSON answer (always `application/json`, as every provider here sends)."""
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")
