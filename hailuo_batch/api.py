"""The library: everything the command line does, callable from Python. Does I/O.

For notebooks and orchestrators (Airflow, Dagster, Prefect) as much as for scripts::

    import hailuo_batch as hb

    manifest = {"version": 1, "provider": "novita", "output": "out/cats",
                "jobs": [{"id": "cat", "prompt": "a cat in the snow"}]}
    plan = hb.load_plan(manifest)                   # every check, nothing sent
    summary = hb.run(manifest, simulate=True)       # or a manifest file's path
    for result in hb.OutputFolder("out/cats").results():
        print(result.id, result.video, result.sha256)

`run` installs no signal handlers unless asked (`handle_signals=True`, as the CLI asks),
and leaves the host's own as they were. It works inside a running event loop (a
notebook's) by running in a thread of its own; `arun` is the same, awaitable.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hailuo_batch.core.events import Event
from hailuo_batch.core.layout import JOURNAL, LOCKFILE
from hailuo_batch.engine import planning
from hailuo_batch.engine.planning import PlanView
from hailuo_batch.manifest.plan import Plan
from hailuo_batch.store.fold import JobRecord
from hailuo_batch.store.folder import read_folder
from hailuo_batch.store.lockfile import LockDocument
from hailuo_batch.store.status import FolderStatus, folder_status

if TYPE_CHECKING:  # the run's and the outputs' modules load when first used: validate is fast
    from hailuo_batch.core.clock import Clock
    from hailuo_batch.engine.display import Display, RunView
    from hailuo_batch.engine.summary import RunSummary
    from hailuo_batch.outputs.verify import Verification
    from hailuo_batch.transport import Transport

Manifestlike = str | os.PathLike[str] | Mapping[str, Any]
"""A manifest: a YAML file's path, or the same document built as a dict."""
EventHandler = Callable[[Event, JobRecord | None], None]


def load_plan(
    manifest: Manifestlike,
    *,
    env: Mapping[str, str] | None = None,
    base: str | os.PathLike[str] | None = None,
) -> Plan:
    """Every job a manifest asks for, checked as `validate` checks it; the plan's
    `problems` are then only warnings (a missing API key, say: `run` needs the keys).

    Raises `ManifestError` listing every mistake (`.problems`, each with file, line or
    key, and job). `base` is where a dict's relative paths start (default: here).
    """
    plan, warnings = planning.load_plan(
        _source(manifest),
        os.environ if env is None else env,
        keys="warning",
        base=Path(base) if base is not None else None,
    )
    return dataclasses.replace(plan, problems=tuple(warnings))


def plan(
    manifest: Manifestlike,
    out: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> PlanView:
    """What running the manifest into `out` (default: its `output:`) would do: each job's
    state there (done, in flight, to submit), the estimated cost and time. Nothing sent."""
    return planning.plan_view(
        _source(manifest),
        Path(out) if out is not None else None,
        os.environ if env is None else env,
    )


def run(
    manifest: Manifestlike,
    out: str | os.PathLike[str] | None = None,
    *,
    simulate: bool = False,
    env: Mapping[str, str] | None = None,
    on_event: EventHandler | None = None,
    budget_usd: float | None = None,
    concurrency: int | None = None,
    retry_failed: bool = False,
    base_urls: Mapping[str, str] | None = None,
    sim_options: Mapping[str, object] | None = None,
    handle_signals: bool = False,
) -> RunSummary:
    """Run (or resume) a manifest into `out` (default: its `output:`); see `arun`."""
    coroutine = arun(
        manifest,
        out,
        simulate=simulate,
        env=env,
        on_event=on_event,
        budget_usd=budget_usd,
        concurrency=concurrency,
        retry_failed=retry_failed,
        base_urls=base_urls,
        sim_options=sim_options,
        handle_signals=handle_signals,
    )
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(1, thread_name_prefix="hailuo-batch") as pool:  # a notebook's loop
        return pool.submit(asyncio.run, coroutine).result()


async def arun(
    manifest: Manifestlike,
    out: str | os.PathLike[str] | None = None,
    *,
    simulate: bool = False,
    env: Mapping[str, str] | None = None,
    on_event: EventHandler | None = None,
    budget_usd: float | None = None,
    concurrency: int | None = None,
    retry_failed: bool = False,
    base_urls: Mapping[str, str] | None = None,
    sim_options: Mapping[str, object] | None = None,
    handle_signals: bool = False,
    display: Callable[[RunView], Display] | None = None,
    transport: Transport | None = None,
    clock: Clock | None = None,
) -> RunSummary:
    """Run (or resume) a manifest: the jobs are submitted, followed and downloaded into the
    output folder; finished videos are never made or paid for twice.

    `simulate` runs against the built-in simulator (no keys, no network). Keys come from
    `env` (default: the process environment). `on_event` is called with each journal
    event (`hailuo_batch.events`) and the job's record, after it is written. The
    summary's `exit_code` is what the CLI would exit with (0, 1 or 3); bad input raises
    `ManifestError` before anything is sent.
    """
    from hailuo_batch.engine.display import Silent
    from hailuo_batch.engine.wiring import RunOptions, run_manifest

    options = RunOptions(
        out=Path(out) if out is not None else None,
        simulate=simulate,
        sim_options=dict(sim_options or {}),
        base_urls=dict(base_urls or {}),
        concurrency=concurrency,
        retry_failed=retry_failed,
        budget_usd=budget_usd,
        handle_signals=handle_signals,
    )
    return await run_manifest(
        _source(manifest),
        options,
        os.environ if env is None else env,
        display or (lambda view: Silent()),
        on_event,
        transport=transport,
        clock=clock,
    )


def _source(manifest: Manifestlike) -> planning.ManifestSource:
    return manifest if isinstance(manifest, Mapping) else Path(manifest)


@dataclass(frozen=True, slots=True)
class Result:
    """One finished video of an output folder: the file, what asked for it, what it cost.

    The same fields as a line of `results.jsonl`; `video` is the file's full path.
    """

    id: str
    key: str
    video: Path
    sha256: str
    bytes: int
    simulated: bool
    request: Mapping[str, Any]
    meta: Mapping[str, Any]
    provider: str | None
    task_id: str | None
    cost_usd: float | None
    media: Mapping[str, Any]
    warnings: tuple[str, ...]
    row: Mapping[str, Any]  # the whole results.jsonl line

    @property
    def prompt(self) -> str:
        return str(self.request.get("prompt", ""))


class OutputFolder:
    """An output folder of hailuo-batch, read from disk (nothing is sent)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"OutputFolder({str(self.path)!r})"

    def lock(self) -> LockDocument:
        """The folded state as last written (the journal folded, before a run's first
        checkpoint); NotAnOutputFolderError if no run wrote here."""
        return read_folder(self.path)

    def status(self) -> FolderStatus:
        """Jobs per state, failures, spend, superseded and simulated videos: `status`."""
        return folder_status(self.path)

    def results(self) -> Iterator[Result]:
        """Every finished video of the manifest last run here, in natural id order."""
        from hailuo_batch.outputs.results import result_rows

        for row in result_rows(self.lock()):
            yield Result(
                id=row["id"],
                key=row["key"],
                video=self.path / row["path"],
                sha256=row["sha256"],
                bytes=row["bytes"],
                simulated=row["simulated"],
                request=row["request"],
                meta=row["meta"],
                provider=row["provider"],
                task_id=row["task_id"],
                cost_usd=row["cost_usd"],
                media=row["media"] or {},
                warnings=tuple(row["warnings"]),
                row=row,
            )

    def verify(self) -> Verification:
        """Re-check every paid video against the lock and its request: `verify`."""
        from hailuo_batch.outputs.verify import verify_folder

        return verify_folder(self.path)

    def write_report(self, formats: Iterable[str] = ("html", "jsonl")) -> list[Path]:
        """(Re)write report.html, results.jsonl (with videos/metadata.jsonl), results.csv
        or results.parquet: `report --format ...`."""
        from hailuo_batch.outputs.report import build_report

        return build_report(self.path, formats)

    def split_word_videos(self) -> list[str]:
        """Videos whose names `datasets` would take for a split (`test-fox.mp4`): loading
        `videos/` with `data_dir=` alone would then drop the rest (see README)."""
        from hailuo_batch.core.layout import VIDEOS
        from hailuo_batch.outputs.metadata import split_word_files

        folder = self.path / VIDEOS
        return split_word_files(p.name for p in folder.glob("*.mp4")) if folder.is_dir() else []

    @property
    def exists(self) -> bool:
        """Whether a run has written here (a journal or a lockfile)."""
        return (self.path / JOURNAL).exists() or (self.path / LOCKFILE).exists()
