"""The engine: lifecycle and supervision of one run; its parts are the sibling modules.

One event loop. Each provider is a lane (`lanes`) of slot workers; a worker carries one
job at a time from submit (`submitter`) through following its task (`follower`) to the
download pool (`downloads`), holding one of the lane's `concurrency` places until the
task ends, or until just before, when the next submit may start (`lanes.Hold`). Every
state change is an event the recorder journals before anything acts on it, so a run
killed at any instant resumes without paying twice.

Every worker runs under supervision: a worker's unexpected failure stops the run with a
message (never lost in a callback), a full disk stops it like Ctrl-C with its state
saved. Times are in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import traceback
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hailuo_batch.core import events as ev
from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER, Rate
from hailuo_batch.core.clock import Clock
from hailuo_batch.core.http import TaskStatus
from hailuo_batch.core.jobs import Job
from hailuo_batch.core.layout import poster_path
from hailuo_batch.engine.downloads import Downloads
from hailuo_batch.engine.follower import Follower, SubmitAgain, Succeeded
from hailuo_batch.engine.lanes import Hold, Lane, Lanes
from hailuo_batch.engine.recorder import Recorder
from hailuo_batch.engine.submitter import SubmitSettings, Submitter
from hailuo_batch.engine.summary import Failure, RunSummary
from hailuo_batch.errors import DiskFullError
from hailuo_batch.manifest.plan import Plan
from hailuo_batch.outputs import probe
from hailuo_batch.policy.budget import Budget
from hailuo_batch.policy.retry import Backoff
from hailuo_batch.store.journal import free_bytes, is_disk_full
from hailuo_batch.transport import Transport

SUBMIT_DRAIN_SECONDS = 15.0  # how long a stopping run waits for answers to sent submits
SUBMIT_WINDOW = 16  # default ceiling: 50 slots fill in about 4 s at a real API's latency
SYNC_EVERY = 0.1  # a power cut loses at most this much of what needed no fsync at once


@dataclass(frozen=True, slots=True)
class RunSettings:
    """How to run: limits already resolved from manifest, flags and provider defaults."""

    out_dir: Path
    concurrency: Mapping[str, int]
    submit_rate: Mapping[str, Rate]
    max_attempts: int = 3
    retry_failed: bool = False
    downloads: int = 4
    download_attempts: int = 6
    poll_error_limit: int = 30
    budget_usd: float | None = None
    checkpoint_every: float = 5.0
    seed: int | None = None
    simulated: bool = False
    submit_window: int = SUBMIT_WINDOW  # submits in flight at once per provider, at most


class Engine:
    """Runs one plan. `stop()` (from a signal handler) makes `run()` return promptly."""

    def __init__(
        self,
        plan: Plan,
        lanes: Lanes,
        transport: Transport,
        clock: Clock,
        recorder: Recorder,
        settings: RunSettings,
        price_of: Callable[[str, Job], float | None],
        checkpoint: Callable[[], None],
        notify: Callable[[str], None] = lambda text: None,
    ) -> None:
        self.plan = plan
        self.lanes = lanes
        self.clock = clock
        self.recorder = recorder
        self.settings = settings
        self.checkpoint = checkpoint
        self.notify = notify
        self.rng = random.Random(settings.seed)
        backoff = Backoff()
        self.budget = Budget(settings.budget_usd, recorder.state.spend_usd)
        self.submitter = Submitter(
            self,
            recorder,
            transport,
            clock,
            self.budget,
            price_of,
            SubmitSettings(settings.max_attempts, settings.simulated),
            self.rng,
            backoff,
        )
        self.follower = Follower(
            self,
            recorder,
            transport,
            clock,
            self.rng,
            backoff,
            max_attempts=settings.max_attempts,
            poll_error_limit=settings.poll_error_limit,
        )
        self.downloads = Downloads(
            self,
            recorder,
            transport,
            clock,
            settings.out_dir,
            self._fresh_status,
            attempts=settings.download_attempts,
            rng=self.rng,
            backoff=backoff,
        )
        self.stopped: str | None = None
        self.budget_reached: str | None = None
        self.notices: list[str] = []
        self.crash: str | None = None
        self._unreachable: list[Job] = []
        self._running = False
        self._slots: set[asyncio.Task[None]] = set()
        self._workers: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()

    # -- the run ------------------------------------------------------------------------

    async def run(self) -> RunSummary:
        self.recorder.emit(
            ev.RunStarted(jobs=len(self.plan.jobs), simulated=self.settings.simulated)
        )
        for job in self.plan.jobs:
            self._declare(job)
        damaged = await asyncio.to_thread(self._damaged)
        self._running = True
        self._idle.set()
        downloads = [
            self._worker(self.downloads.worker(), "download")
            for _ in range(self.settings.downloads)
        ]
        self.downloads.workers = len(downloads)
        self._worker(self._checkpoints(), "checkpoint")
        self._route_all(damaged)
        try:
            await self._idle.wait()
            self.downloads.finish()
            await asyncio.wait(downloads)
        except asyncio.CancelledError:
            if not self.stopped:
                raise
        finally:
            self._running = False
            sending = self.submitter.sending
            if sending:  # let answers to submits already sent arrive and be journaled
                await asyncio.wait(sending, timeout=SUBMIT_DRAIN_SECONDS)
            tasks = [*self._workers, *self._slots]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.recorder.journal.sync()
        return self.summary()

    def stop(self, reason: str) -> None:
        """Stop submitting and polling now; everything known is already in the journal."""
        if self.stopped is None:
            self.stopped = reason
            # on a full disk the reason is still reported; the journal has all before it
            with contextlib.suppress(DiskFullError, OSError):
                self.recorder.emit(ev.Stopped(reason=reason))
        for task in [*self._workers, *self._slots]:
            task.cancel()

    def summary(self) -> RunSummary:
        state = self.recorder.state
        by_state: dict[str, int] = {}
        failures = []
        duplicates = simulated = 0
        for job in self.plan.jobs:
            rec = state.record(job.key)
            by_state[rec.state] = by_state.get(rec.state, 0) + 1
            duplicates += rec.possible_duplicates
            simulated += rec.simulated
            if rec.state == "failed" and rec.error:
                failures.append(Failure(job.id, rec.error.kind, rec.error.message))
        return RunSummary(
            total=len(self.plan.jobs),
            by_state=by_state,
            spend=state.spend(job.key for job in self.plan.jobs),
            failures=failures,
            stopped=self.stopped or self.budget_reached,
            possible_duplicates=duplicates,
            simulated=simulated,
            out_of_service=list(state.out_of_service.values()),
            notices=self.notices,
            crash=self.crash,
        )

    # -- supervision ------------------------------------------------------------------

    def _worker(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coroutine)
        self._workers.add(task)
        task.add_done_callback(lambda done: self._ended(done, name, self._workers))
        return task

    def _slot(self, lane: Lane) -> None:
        task = asyncio.ensure_future(self._carry_all(lane))
        self._slots.add(task)
        self._idle.clear()
        task.add_done_callback(lambda done: self._ended(done, f"{lane.name} slot", self._slots))

    def _ended(self, task: asyncio.Task[None], name: str, group: set[asyncio.Task[None]]) -> None:
        """Every worker ends here: its failure stops the run, with a message."""
        group.discard(task)
        if group is self._slots and not self._slots:
            self._idle.set()
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._crashed(name, exc)

    def _crashed(self, name: str, exc: BaseException) -> None:
        folder = self.settings.out_dir
        if isinstance(exc, DiskFullError) or is_disk_full(exc):
            self.stop(str(DiskFullError(str(folder), free_bytes(folder))))
        elif isinstance(exc, OSError):
            self.stop(f"cannot write to {folder}: {exc.strerror or exc}")
        else:
            self.crash = "".join(traceback.format_exception(exc))
            self.stop(
                f"internal error in the {name}: {type(exc).__name__}: {exc} "
                "(run with --debug to see where)"
            )

    def on_low_space(self) -> None:
        """The journal used its reserve: stop before the disk is full, state saved."""
        folder = self.settings.out_dir
        self.stop(str(DiskFullError(str(folder), free_bytes(folder))))

    # -- resume: where each job stands, and where it goes -------------------------------

    def _declare(self, job: Job) -> None:
        rec = self.recorder.state.jobs.get(job.key)
        source = job.source.to_json()
        meta = dict(job.meta)
        request = job.request.to_json()
        # older locks recorded absolute image paths: declaring again records them relative
        if (
            rec is None
            or rec.id != job.id
            or rec.source != source
            or rec.meta != meta
            or rec.request != request
        ):
            self.recorder.emit(
                ev.JobDeclared(
                    key=job.key,
                    id=job.id,
                    sample=job.sample,
                    request=request,
                    source=source,
                    meta=meta,
                )
            )

    def _damaged(self) -> set[str]:
        """Keys of done jobs whose video is not intact (in a thread: it may hash files)."""
        state, folder = self.recorder.state, self.settings.out_dir
        return {
            job.key
            for job in self.plan.jobs
            if (rec := state.jobs.get(job.key)) is not None
            and rec.state == "done"
            and (self.settings.simulated or not rec.simulated)  # a real run remakes those
            and probe.damage(folder, rec) is not None
        }

    def _route_all(self, damaged: set[str]) -> None:
        remade = [job for job in self.plan.jobs if self._is_simulated_leftover(job)]
        if remade:
            self._remake(remade)
        for job in self.plan.jobs:
            self._route(job, job.key in damaged)
        for provider in sorted(
            {self.recorder.record(j.key).provider or "?" for j in self._unreachable}
        ):
            count = sum(self.recorder.record(j.key).provider == provider for j in self._unreachable)
            caps = CAPABILITIES_BY_PROVIDER.get(provider)
            variable = caps.key_env_var if caps else "its key"
            self.notice(
                f"{count} paid video(s) made by {provider} are missing or damaged, and "
                f"{provider} is not in this run: set {variable} (or put {provider} back in "
                "the manifest) to fetch them again"
            )

    def _is_simulated_leftover(self, job: Job) -> bool:
        rec = self.recorder.state.jobs.get(job.key)
        return (
            not self.settings.simulated
            and rec is not None
            and rec.simulated
            and rec.state != "pending"
        )

    def _remake(self, jobs: list[Job]) -> None:
        """A real run makes simulated videos for real: their placeholders go first."""
        self.notice(f"{len(jobs)} job(s) were only simulated: their videos will be made for real")
        folder = self.settings.out_dir
        for job in jobs:
            rec = self.recorder.record(job.key)
            if rec.path:
                (folder / rec.path).unlink(missing_ok=True)
                (folder / poster_path(rec.path)).unlink(missing_ok=True)
            self.recorder.emit(ev.Retry(key=job.key, reason="simulated: made for real now"))

    def _route(self, job: Job, damaged: bool) -> None:
        """Resume rules: skip what is done, re-attach what a provider holds, queue the rest."""
        rec = self.recorder.record(job.key)
        if rec.state == "done":
            if not damaged:
                return
            if self.lanes.get(rec.provider) is None:
                self._unreachable.append(job)  # `verify` says how to get it back
                return
            self.recorder.emit(ev.Retry(key=job.key, download=True, reason="file damaged"))
        if rec.state == "failed":
            error = rec.error
            if error is not None and error.stage == "download" and rec.task_id:
                if self.lanes.get(rec.provider) is None:
                    self._unreachable.append(job)
                    return
                self.recorder.emit(ev.Retry(key=job.key, download=True, reason="fetch again"))
            elif self.settings.retry_failed or (error is not None and error.kind == "budget"):
                self.recorder.emit(ev.Retry(key=job.key, reason="retry"))
            else:
                return
        if rec.state == "downloading":
            self.downloads.put(job, None)
            return
        if rec.task_id or rec.state in ("submitting", "unknown"):
            self._enqueue(self.lanes[rec.provider or ""], job, attach=True)
            return  # in flight at its provider: attach there first, never move
        self._send_anywhere(job)

    def _send_anywhere(self, job: Job) -> bool:
        """Queue a job to submit at an able provider (the first, or any with spread
        routing); False (and the job failed, or the run stopped) when there is none."""
        lanes = self.lanes.route(job)
        if lanes:
            self._staff(lanes)
            return True
        down = self.lanes.out_of_service()
        if down:  # able providers exist, but this run took them out of service
            self.stop("; ".join(down.values()))
        else:
            self.fail(job, "invalid_input", "no provider in the list can make this video")
        return False

    def _enqueue(self, lane: Lane, job: Job, *, attach: bool = False) -> None:
        (lane.attach if attach else lane.queue).append(job)
        self._staff([lane])

    def _staff(self, lanes: list[Lane]) -> None:
        """One more slot worker for new work: at the first of `lanes` (cheapest first)
        with a slot free, else at the first that may submit ahead (`lanes.Hold`)."""
        if not self._running:
            return
        for ahead in (False, True):
            for lane in lanes:
                most = lane.most_workers if ahead else lane.gate.limit
                if lane.workers < min(most, lane.waiting()):
                    lane.workers += 1
                    self._slot(lane)
                    return

    # -- a slot: one task at the provider at a time ---------------------------------------

    async def _carry_all(self, lane: Lane) -> None:
        try:
            while True:
                hold = Hold(lane)
                try:
                    await hold.take()  # a place first: a job waiting stays movable till then
                    job = lane.next_job()
                    if job is None:
                        return
                    await self._carry(lane, job, hold)
                finally:
                    hold.let_go()
        finally:
            lane.workers -= 1

    async def _carry(self, lane: Lane, job: Job, hold: Hold) -> None:
        """Take one job from wherever it stands to a finished task (or a final failure)."""
        while True:
            await hold.take()
            rec = self.recorder.record(job.key)
            task_id = rec.task_id
            if rec.state in ("submitting", "unknown"):  # left so by a stopped run
                task_id = await self.submitter.recover(lane, job)
            if task_id is None:
                if lane.follows_only or lane.out_of_service is not None:
                    self._send_anywhere(job)  # held here no longer: a new submit goes elsewhere
                    return
                task_id = await self.submitter.submit(lane, job)
                if task_id is None:
                    return
            result = await self.follower.follow(lane, job, task_id, hold)
            if isinstance(result, Succeeded):
                self.downloads.put(job, result.status)
                return
            if not isinstance(result, SubmitAgain):
                return

    # -- what the parts ask of the run ----------------------------------------------------

    def fail(self, job: Job, kind: str, message: str, stage: str = "submit") -> None:
        self.recorder.emit(ev.Failed(key=job.key, kind=kind, message=message, stage=stage))  # type: ignore[arg-type]

    def out_of_service(self, lane: Lane, reason: str, job: Job | None) -> None:
        """No more submits to this provider in this run: its waiting jobs fail over; a job
        no other provider can take stops the run, state saved, with the reason."""
        first = lane.out_of_service is None
        waiting = self.lanes.take_out_of_service(lane, reason) if first else []
        if job is not None:
            waiting.insert(0, job)
        moved = sum(self.lanes.lane_for(item) is not None for item in waiting)
        if first or moved:
            self.recorder.emit(ev.ProviderDown(provider=lane.name, reason=reason, moved=moved))
        for item in waiting:
            if not self._send_anywhere(item):
                return

    def over_budget(self, job: Job, price: float) -> None:
        left = self.budget.left or 0.0
        limit = self.budget.limit or 0.0
        self.fail(
            job,
            "budget",
            f"${price:.2f} would exceed the budget (${left:.2f} of ${limit:.2f} left)",
        )
        if self.budget_reached is None:
            self.budget_reached = f"budget of ${limit:.2f} reached"

    def notice(self, text: str) -> None:
        self.notices.append(text)
        self.notify(text)

    async def _fresh_status(self, job: Job) -> TaskStatus:
        """Ask the job's provider about its task again, for a fresh video URL."""
        rec = self.recorder.record(job.key)
        lane = self.lanes.get(rec.provider)
        if lane is None or rec.task_id is None:
            raise LookupError(f"no provider in this run knows a task for job {job.id}")
        return await self.follower.status(lane.adapter, rec.task_id)

    async def _checkpoints(self) -> None:
        """Make the journal durable often, and write the lockfile every few seconds so a
        long run can be watched and diffed."""
        ticks = max(round(self.settings.checkpoint_every / SYNC_EVERY), 1)
        while True:
            for _ in range(ticks):
                await asyncio.sleep(SYNC_EVERY)
                await self.recorder.commit()
            self.checkpoint()
