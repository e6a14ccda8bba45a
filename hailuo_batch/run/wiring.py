"""Wires one `run`: checked plan, locked output folder, adapters, transport, optional
in-process simulator, signals and progress. The CLI's single call for `run`. Does I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Protocol

from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER, Rate, parse_rate
from hailuo_batch.core.clock import MonotonicClock
from hailuo_batch.core.jobs import Job
from hailuo_batch.errors import ManifestError, Problem
from hailuo_batch.manifest.plan import Plan
from hailuo_batch.outputs.live import LiveReport
from hailuo_batch.outputs.report import OUTPUTS
from hailuo_batch.providers import Provider, make_provider
from hailuo_batch.run.engine import Engine, RunSettings, RunSummary
from hailuo_batch.run.planning import job_price, load_plan, output_folder
from hailuo_batch.store.fold import Event, JobRecord, load_state
from hailuo_batch.store.folder_lock import FolderLock
from hailuo_batch.store.journal import Journal
from hailuo_batch.store.lockfile import lock_document, read_lock, write_lock
from hailuo_batch.transport import AiohttpTransport

SIMULATED_KEY = "simulated-key"


class Display(Protocol):
    """What a run shows while it goes (the CLI's live table or plain lines)."""

    def __enter__(self) -> Display: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def seed(self, records: Iterable[JobRecord]) -> None:
        """Start from where the folder stands, so a resumed run counts earlier work."""
        ...

    def update(self, event: Event, record: JobRecord | None) -> None: ...


class Silent:
    """No display at all: the library's default."""

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def seed(self, records: Iterable[JobRecord]) -> None:
        return None

    def update(self, event: Event, record: JobRecord | None) -> None:
        return None


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What the command line (or a test) asks of a run."""

    out: Path | None = None
    simulate: bool = False
    sim_options: Mapping[str, object] = field(default_factory=dict)  # SimConfig fields
    base_urls: Mapping[str, str] = field(default_factory=dict)
    concurrency: int | None = None
    retry_failed: bool = False
    budget_usd: float | None = None  # overrides `limits.budget_usd`


async def run_manifest(
    path: Path,
    options: RunOptions,
    environ: Mapping[str, str],
    display: Callable[[int], Display] = lambda total: Silent(),
) -> RunSummary:
    """Run (or resume) a manifest into its output folder and say how it went."""
    plan, _ = load_plan(path, environ, keys=None if options.simulate else "error")
    out = output_folder(plan, options.out)
    if out is None:
        raise ManifestError(
            [
                Problem(
                    str(path),
                    None,
                    "no output folder: add `output:` to the manifest or pass --out DIR",
                )
            ]
        )
    unknown = set(options.base_urls) - set(plan.manifest.providers)
    if unknown:
        raise ManifestError(
            [
                Problem(
                    str(path),
                    None,
                    f"--base-url names {sorted(unknown)}, "
                    f"not in this manifest's providers "
                    f"{list(plan.manifest.providers)}",
                )
            ]
        )
    budget = options.budget_usd
    if budget is None:
        budget = plan.manifest.limits.get("budget_usd")
    if budget is not None:
        _check_prices_known(plan, path)
    with FolderLock(out):
        async with _origins(plan, options, out) as origins:
            adapters = {
                name: make_provider(name, _key(name, options, environ), origins.get(name))
                for name in plan.manifest.providers
            }
            return await _execute(plan, out, adapters, options, budget, display)


@contextlib.asynccontextmanager
async def _origins(plan: Plan, options: RunOptions, out: Path) -> AsyncIterator[Mapping[str, str]]:
    """Each provider's origin: the simulator's mount point with --simulate, else --base-url.

    The simulator keeps its tasks in `<out>/.simulator/tasks.jsonl` (making the folder), so
    a resumed run finds them again, as it would at a real provider.
    """
    if not options.simulate:
        yield options.base_urls
        return
    from hailuo_batch.simulator import SimConfig, running_in_process

    settings = {"state_file": str(out / ".simulator" / "tasks.jsonl"), **options.sim_options}
    config = SimConfig(**settings)  # type: ignore[arg-type]
    async with running_in_process(config) as base:
        yield {name: f"{base}/{name}" for name in plan.manifest.providers}


def _key(provider: str, options: RunOptions, environ: Mapping[str, str]) -> str:
    if options.simulate:
        return SIMULATED_KEY
    return environ[CAPABILITIES_BY_PROVIDER[provider].key_env_var]


def _check_prices_known(plan: Plan, path: Path) -> None:
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
                    str(path),
                    None,
                    "a budget is set but no price is known for "
                    + ", ".join(missing)
                    + "; add them under `prices:` (USD per video), "
                    "e.g. prices: {novita: {6s-768P: 0.28}}",
                )
            ]
        )


def _settings(plan: Plan, out: Path, options: RunOptions, budget: float | None) -> RunSettings:
    limits = plan.manifest.limits
    concurrency: dict[str, int] = {}
    rates: dict[str, Rate] = {}
    for name in plan.manifest.providers:
        caps = CAPABILITIES_BY_PROVIDER[name]
        concurrency[name] = options.concurrency or limits.get(
            "concurrency", caps.default_concurrency
        )
        rate = parse_rate(limits["submit_rate"]) if "submit_rate" in limits else None
        rates[name] = rate or caps.default_submit_rate
    return RunSettings(
        out_dir=out,
        concurrency=concurrency,
        submit_rate=rates,
        max_attempts=limits.get("max_attempts", 3),
        retry_failed=options.retry_failed,
        budget_usd=budget,
    )


async def _execute(
    plan: Plan,
    out: Path,
    adapters: Mapping[str, Provider],
    options: RunOptions,
    budget: float | None,
    display: Callable[[int], Display],
) -> RunSummary:
    state = load_state(out)
    manifest_info = {
        "path": str(plan.manifest.path),
        "sha256": plan.manifest.sha256,
        "name": plan.manifest.name,
    }
    keys = frozenset(job.key for job in plan.jobs)
    document = lock_document(state, keys, manifest_info)
    written = read_lock(out)
    up_to_date = written == document and all((out / name).exists() for name in OUTPUTS)
    outputs = LiveReport(out, document, up_to_date=up_to_date)
    journal = Journal(out)

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

    transport = AiohttpTransport()
    try:
        with display(len(plan.jobs)) as progress:
            progress.seed(state.jobs[k] for k in keys if k in state.jobs)

            def on_event(event: Event, record: JobRecord | None) -> None:
                progress.update(event, record)
                outputs.on_event(event, record)

            engine = Engine(
                plan,
                adapters,
                transport,
                MonotonicClock(),
                journal,
                state,
                _settings(plan, out, options, budget),
                price_of,
                checkpoint,
                on_event=on_event,
            )
            with _interrupts(engine):
                return await engine.run()
    finally:
        await transport.close()
        journal.close()
        checkpoint()
        outputs.finish()


@contextlib.contextmanager
def _interrupts(engine: Engine) -> Iterator[None]:
    """First Ctrl-C (or SIGTERM): stop and save. Second: leave at once; the journal is safe."""
    loop = asyncio.get_running_loop()
    presses = 0

    def on_signal() -> None:
        nonlocal presses
        presses += 1
        if presses > 1:
            os._exit(3)
        engine.stop("interrupted")

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
        except (RuntimeError, ValueError):  # not the main thread (fcntl makes us POSIX-only)
            continue
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
