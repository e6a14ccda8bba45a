"""Wires one `run`: checked plan, a usable and locked output folder, keys, adapters (for the
manifest's providers and any provider still holding tasks), transport, the optional
in-process simulator, signals, display and live outputs. Does I/O.

Everything that can be refused is refused before anything is sent: bad input and an
unusable folder (exit 2), a provider holding tasks without its key (exit 3).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER, Rate, parse_rate
from hailuo_batch.core.clock import Clock, MonotonicClock
from hailuo_batch.core.events import Event
from hailuo_batch.core.jobs import Job
from hailuo_batch.core.keys import api_key
from hailuo_batch.core.layout import FOLDER_LOCK, JOURNAL, LOCKFILE, RESERVE, SIMULATOR
from hailuo_batch.engine.display import Display, RunView, Silent
from hailuo_batch.engine.lanes import Lane, Lanes
from hailuo_batch.engine.lifecycle import SUBMIT_WINDOW, Engine, RunSettings
from hailuo_batch.engine.planning import (
    IN_FLIGHT,
    ManifestSource,
    job_price,
    load_plan,
    output_folder,
)
from hailuo_batch.engine.recorder import Listener, Recorder
from hailuo_batch.engine.summary import RunSummary
from hailuo_batch.errors import (
    DiskFullError,
    ManifestError,
    MissingKeyError,
    OutputFolderError,
    Problem,
)
from hailuo_batch.manifest.document import DICT_ORIGIN
from hailuo_batch.manifest.plan import Plan
from hailuo_batch.outputs.live import LiveReport
from hailuo_batch.outputs.report import OUTPUTS
from hailuo_batch.providers import Provider, make_provider
from hailuo_batch.store.fold import JobRecord, RunState, load_state
from hailuo_batch.store.folder_lock import FolderLock
from hailuo_batch.store.journal import Journal, free_bytes, is_disk_full
from hailuo_batch.store.lockfile import ManifestInfo, lock_document, read_lock_json, write_lock
from hailuo_batch.transport import AiohttpTransport, Transport

SIMULATED_KEY = "simulated-key"
DRAWN_PROMPTS_UP_TO = 50  # jobs; above, one encode per look keeps the simulator cheap
OURS = frozenset({JOURNAL, LOCKFILE, FOLDER_LOCK, RESERVE, SIMULATOR})
"""Names that make a folder ours before any video is in it (a run that stopped early)."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What the command line (or a library caller) asks of a run."""

    out: Path | None = None
    simulate: bool = False
    sim_options: Mapping[str, object] = field(default_factory=dict)  # SimConfig fields
    base_urls: Mapping[str, str] = field(default_factory=dict)
    concurrency: int | None = None
    retry_failed: bool = False
    budget_usd: float | None = None  # overrides `limits.budget_usd`
    handle_signals: bool = False  # Ctrl-C/SIGTERM stop the run (the CLI asks for this)


async def run_manifest(
    source: ManifestSource,
    options: RunOptions,
    environ: Mapping[str, str],
    display: Callable[[RunView], Display] = lambda view: Silent(),
    on_event: Callable[[Event, JobRecord | None], None] | None = None,
    *,
    transport: Transport | None = None,
    clock: Clock | None = None,
) -> RunSummary:
    """Run (or resume) a manifest into its output folder and say how it went.

    `transport` and `clock` replace the real ones (tests: a fake server, a manual clock).
    """
    plan, _ = load_plan(source, environ, keys=None if options.simulate else "error")
    file = plan.manifest.file
    out = output_folder(plan, options.out)
    if out is None:
        raise ManifestError(
            [
                Problem(
                    file,
                    None,
                    "no output folder: add `output:` to the manifest or pass --out DIR",
                )
            ]
        )
    check_folder(out)
    state = load_state(out)
    current = frozenset(job.key for job in plan.jobs)
    holding = _held_elsewhere(plan, state, current)
    known = set(plan.manifest.providers) | set(holding)
    unknown = set(options.base_urls) - known
    if unknown:
        raise ManifestError(
            [
                Problem(
                    file,
                    None,
                    f"--base-url names {sorted(unknown)}, not a provider of this manifest "
                    f"({', '.join(plan.manifest.providers)}) nor one holding its tasks",
                )
            ]
        )
    if options.simulate:
        _refuse_real_tasks(out, state, current)
    budget = options.budget_usd
    if budget is None:
        budget = plan.manifest.limits.get("budget_usd")
    if budget is not None:
        _check_prices_known(plan)
    keys = _keys(plan, holding, options, environ)
    with _disk_full_as_error(out), FolderLock(out):
        async with _origins(plan, holding, options, out) as origins:
            adapters = [
                (
                    make_provider(name, keys[name], origins.get(name)),
                    name not in plan.manifest.providers,
                )
                for name in keys
            ]
            return await _execute(
                plan,
                out,
                adapters,
                options,
                budget,
                display,
                on_event,
                transport or AiohttpTransport(),
                clock or MonotonicClock(),
            )


@contextlib.contextmanager
def _disk_full_as_error(out: Path) -> Iterator[None]:
    """A full disk met while setting up or finishing a run is said as such (exit 3)."""
    try:
        yield
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFullError(str(out), free_bytes(out)) from None
        raise


def check_folder(out: Path) -> None:
    """Refuse a folder that holds files of someone else's, or that cannot be written to,
    before anything is sent or written."""
    if out.exists() and not out.is_dir():
        raise OutputFolderError(str(out), "is a file, not a folder; choose another --out")
    if out.is_dir():
        try:
            names = {entry.name for entry in os.scandir(out)}
        except OSError as exc:
            raise OutputFolderError(str(out), f"cannot be read ({exc.strerror})") from None
        if names and not names & {JOURNAL, LOCKFILE}:
            shown = ", ".join(sorted(names)[:3]) + (", ..." if len(names) > 3 else "")
            if not names <= OURS:
                raise OutputFolderError(
                    str(out),
                    f"is not empty ({shown}) and holds no hailuo-batch journal: refusing to "
                    "write into it; choose an empty or new folder with --out",
                )
    probe = out / f".hailuo-batch.probe.{os.getpid()}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(bytes(4096))  # a block: a full disk says so now, not mid-run
        probe.unlink()
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFullError(str(out), free_bytes(out)) from None
        reason = exc.strerror or str(exc)
        raise OutputFolderError(str(out), f"cannot be written to ({reason})") from None


@dataclass(frozen=True, slots=True)
class Held:
    """What a provider the manifest no longer lists still holds of this plan."""

    tasks: int  # in flight there: must be followed there
    videos: int  # finished there: fetched there again if lost


def _held_elsewhere(plan: Plan, state: RunState, current: frozenset[str]) -> dict[str, Held]:
    """Providers the manifest no longer lists that hold this plan's tasks or paid videos."""
    listed = set(plan.manifest.providers)
    tasks: dict[str, int] = {}
    videos: dict[str, int] = {}
    for key in current:
        rec = state.jobs.get(key)
        if rec is None or not rec.provider or rec.provider in listed:
            continue
        if rec.state in IN_FLIGHT:
            tasks[rec.provider] = tasks.get(rec.provider, 0) + 1
        elif rec.task_id or rec.state == "done":
            videos[rec.provider] = videos.get(rec.provider, 0) + 1
    return {
        name: Held(tasks.get(name, 0), videos.get(name, 0)) for name in sorted({*tasks, *videos})
    }


def _refuse_real_tasks(out: Path, state: RunState, current: frozenset[str]) -> None:
    real = [
        r for k in current if (r := state.jobs.get(k)) and not r.simulated and r.state in IN_FLIGHT
    ]
    if real:
        providers = ", ".join(sorted({r.provider or "?" for r in real}))
        raise OutputFolderError(
            str(out),
            f"holds {len(real)} real task(s) in flight at {providers}: a simulated run would "
            "not follow them; resume with a real run, or simulate into another --out",
        )


def _keys(
    plan: Plan,
    holding: Mapping[str, Held],
    options: RunOptions,
    environ: Mapping[str, str],
) -> dict[str, str]:
    """Each provider's key, trimmed. A provider holding tasks in flight needs its key
    (MissingKeyError, before anything is sent); one holding only finished videos is left
    out without it (its lost videos are reported, not fetched)."""
    keys: dict[str, str] = {}
    for name in (*plan.manifest.providers, *holding):
        if options.simulate:
            keys[name] = SIMULATED_KEY
            continue
        variable = CAPABILITIES_BY_PROVIDER[name].key_env_var
        key = api_key(environ, variable)
        if key:
            keys[name] = key
        elif name in holding and holding[name].tasks:
            raise MissingKeyError(name, variable, holding[name].tasks, holding[name].videos)
        # a manifest provider without a key was refused by the plan's checks already
    return keys


@contextlib.asynccontextmanager
async def _origins(
    plan: Plan, holding: Mapping[str, Held], options: RunOptions, out: Path
) -> AsyncIterator[Mapping[str, str]]:
    """Each provider's origin: the simulator's mount point with --simulate, else --base-url.

    The simulator keeps its tasks in `<out>/.simulator/tasks.jsonl` (making the folder), so
    a resumed run finds them again, as it would at a real provider.
    """
    if not options.simulate:
        yield options.base_urls
        return
    from hailuo_batch.simulator import SimConfig, running_in_process

    settings = {
        "state_file": str(out / SIMULATOR / "tasks.jsonl"),
        # a few jobs, a person looking: draw each prompt in, so the clips tell apart
        "draw_prompts": len(plan.jobs) <= DRAWN_PROMPTS_UP_TO,
        **options.sim_options,
    }
    config = SimConfig(**settings)  # type: ignore[arg-type]
    async with running_in_process(config) as base:
        yield {name: f"{base}/{name}" for name in (*plan.manifest.providers, *holding)}


def _check_prices_known(plan: Plan) -> None:
    """A budget can only be kept where prices are known: say which are missing, before."""
    missing = sorted(
        {
            f"{job.providers[0]}: {job.request.duration}s-{job.request.resolution}"
            for job in plan.jobs
            if job_price(plan, job.providers[0], job.request) is None
        }
    )
    if missing:
        raise ManifestError(
            [
                Problem(
                    plan.manifest.file,
                    None,
                    "a budget is set but no price is known for "
                    + ", ".join(missing)
                    + "; add them under `prices:` (USD per video), "
                    "e.g. prices: {novita: {6s-768P: 0.28}}",
                )
            ]
        )


def _settings(
    plan: Plan, out: Path, providers: Iterable[str], options: RunOptions, budget: float | None
) -> RunSettings:
    limits = plan.manifest.limits
    concurrency: dict[str, int] = {}
    rates: dict[str, Rate] = {}
    for name in providers:
        caps = CAPABILITIES_BY_PROVIDER[name]
        concurrency[name] = options.concurrency or limits.get(
            "concurrency", caps.default_concurrency
        )
        rate = parse_rate(limits["submit_rate"]) if "submit_rate" in limits else None
        rates[name] = rate or caps.default_submit_rate
    return RunSettings(
        out_dir=out,
        concurrency=concurrency,
        downloads=download_workers(sum(concurrency.values())),
        submit_rate=rates,
        max_attempts=limits.get("max_attempts", 3),
        submit_window=limits.get("submit_window", SUBMIT_WINDOW),
        retry_failed=options.retry_failed,
        budget_usd=budget,
        simulated=options.simulate,
    )


def _manifest_from(plan: Plan, out: Path) -> str:
    """The manifest's path from the output folder, as the lock records it: the folder can
    move or be shared without naming the user's folders."""
    if plan.manifest.file == DICT_ORIGIN:
        return DICT_ORIGIN
    return Path(os.path.relpath(plan.manifest.path, out)).as_posix()


def download_workers(slots: int) -> int:
    """Downloads at once: one per 4 slots of every provider (videos end about that fast
    together), at least 4, at most 32 (each holds a MiB buffer and a connection)."""
    return min(max(slots // 4, 4), 32)


async def _execute(
    plan: Plan,
    out: Path,
    adapters: list[tuple[Provider, bool]],
    options: RunOptions,
    budget: float | None,
    display: Callable[[RunView], Display],
    on_event: Callable[[Event, JobRecord | None], None] | None,
    transport: Transport,
    clock: Clock,
) -> RunSummary:
    state = load_state(out)  # again, under the folder lock: another run may have written
    manifest_info = ManifestInfo(
        _manifest_from(plan, out), plan.manifest.sha256, plan.manifest.name
    )
    keys = frozenset(job.key for job in plan.jobs)
    document = lock_document(state, keys, manifest_info)
    written = read_lock_json(out)
    up_to_date = written == document and all((out / name).exists() for name in OUTPUTS)
    journal = Journal(out)
    outputs = LiveReport(out, document, up_to_date=up_to_date)
    folded = state.changes

    def checkpoint() -> None:
        nonlocal written, document, folded
        if state.changes != folded:  # a no-op re-run of 10k jobs skips 0.1 s here
            document, folded = lock_document(state, keys, manifest_info), state.changes
        if document != written:
            write_lock(out, document)
            written = document
        outputs.checkpoint(document)

    def price_of(provider: str, job: Job) -> float | None:
        return job_price(plan, provider, job.request)

    settings = _settings(plan, out, (a.name for a, _ in adapters), options, budget)
    spread = plan.manifest.routing == "spread"
    lanes = _lanes(adapters, settings, clock, price_of, budget is not None, spread)
    summary: RunSummary | None = None
    try:
        view = RunView(len(plan.jobs), settings.concurrency, budget)
        with display(view) as progress:
            progress.seed(state.jobs[k] for k in keys if k in state.jobs)
            listeners: list[Listener] = [progress.update, outputs.on_event]
            if on_event is not None:
                listeners.append(on_event)
            engine: Engine | None = None

            def low_space() -> None:
                if engine is not None:
                    engine.on_low_space()

            recorder = Recorder(journal, state, clock, listeners, low_space)
            engine = Engine(
                plan,
                lanes,
                transport,
                clock,
                recorder,
                settings,
                price_of,
                checkpoint,
                notify=progress.notice,
            )
            with _interrupts(engine, options.handle_signals):
                summary = await engine.run()
    finally:
        await transport.close()
        journal.close()
    try:
        checkpoint()
        outputs.finish()
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        if summary is not None and not summary.stopped:
            summary = replace(summary, stopped=str(DiskFullError(str(out), free_bytes(out))))
    return summary


def _lanes(
    adapters: list[tuple[Provider, bool]],
    settings: RunSettings,
    clock: Clock,
    price_of: Callable[[str, Job], float | None],
    priced_only: bool,
    spread: bool,
) -> Lanes:
    """One lane per adapter; under a budget a lane takes only jobs it can price."""
    from hailuo_batch.policy.limits import ConcurrencyGate, RateLimiter, SubmitWindow
    from hailuo_batch.policy.polling import LatencyEstimate

    def can_price(provider: str, job: Job) -> bool:
        return not priced_only or price_of(provider, job) is not None

    def lane(adapter: Provider, follows_only: bool) -> Lane:
        latency = LatencyEstimate()
        return Lane(
            adapter,
            RateLimiter(settings.submit_rate[adapter.name], clock),
            ConcurrencyGate(settings.concurrency[adapter.name]),
            SubmitWindow(settings.submit_window, lambda: latency.value),
            latency=latency,
            follows_only=follows_only,
        )

    return Lanes(
        (lane(adapter, follows_only) for adapter, follows_only in adapters),
        can_price,
        price_of,
        spread=spread,
    )


@contextlib.contextmanager
def _interrupts(engine: Engine, handle: bool) -> Iterator[None]:
    """First Ctrl-C (or SIGTERM): stop and save. Second: leave at once; the journal is safe.

    Only when asked (the CLI asks): a library caller's own handlers are left alone, and
    restored as they were afterwards.
    """
    if not handle:
        yield
        return
    loop = asyncio.get_running_loop()
    presses = 0

    def on_signal() -> None:
        nonlocal presses
        presses += 1
        if presses > 1:
            os._exit(3)
        engine.stop("interrupted")

    saved = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous = signal.getsignal(sig)
            loop.add_signal_handler(sig, on_signal)
            saved[sig] = previous
        except (RuntimeError, ValueError):  # not the main thread (fcntl makes us POSIX-only)
            continue
    try:
        yield
    finally:
        for sig, previous in saved.items():
            loop.remove_signal_handler(sig)
            signal.signal(sig, previous)
