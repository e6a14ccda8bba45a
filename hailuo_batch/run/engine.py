"""The engine: runs a plan into an output folder within each provider's limits, resumably.

One event loop. Per provider: `concurrency` slot workers (each carries one task from
submit to success, so the cap on tasks in flight is the number of busy slots, behind an
adaptive `ConcurrencyGate`), a submit `RateLimiter`, and polling paced by `polling`.
Finished tasks go to a bounded pool of download workers. Every state change is an event
appended to the journal before the engine acts on it, so a run killed at any instant
resumes without paying twice: a submit is journaled as intent first, its task id the
moment it is known, and an ambiguous submit becomes `unknown`, never a blind re-POST.
Times are in seconds.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hailuo_batch.core.capabilities import provider_violations
from hailuo_batch.core.clock import Clock
from hailuo_batch.core.http import HttpRequest, SubmitImages, TaskStatus
from hailuo_batch.core.jobs import Job
from hailuo_batch.errors import ProviderError, TransportError
from hailuo_batch.manifest import images
from hailuo_batch.manifest.plan import Plan
from hailuo_batch.outputs import probe
from hailuo_batch.policy.budget import Budget
from hailuo_batch.policy.limits import ConcurrencyGate, RateLimiter
from hailuo_batch.policy.polling import DurationEstimate, first_poll_delay, next_poll_delay
from hailuo_batch.policy.retry import Backoff
from hailuo_batch.providers import Provider, TaskFinder
from hailuo_batch.run.downloads import Fetcher
from hailuo_batch.store.fold import Event, JobRecord, RunState
from hailuo_batch.store.journal import Journal
from hailuo_batch.transport import Transport

SUBMIT_DRAIN_SECONDS = 15.0  # how long a stopping run waits for answers to sent submits
SYNC_EVERY = 0.1  # a power cut loses at most this much of what needed no fsync at once


@dataclass(frozen=True, slots=True)
class RunSettings:
    """How to run: limits already resolved from manifest, flags and provider defaults."""

    out_dir: Path
    concurrency: Mapping[str, int]
    submit_rate: Mapping[str, Any]  # provider -> Rate
    max_attempts: int = 3
    retry_failed: bool = False
    downloads: int = 4
    download_attempts: int = 6
    poll_error_limit: int = 30
    circuit_threshold: int = 8  # failed submits in a row that take a provider out of service
    budget_usd: float | None = None
    checkpoint_every: float = 5.0
    seed: int | None = None


@dataclass(slots=True)
class RunSummary:
    """What a run achieved; `exit_code` is the only place run outcomes become codes."""

    total: int
    by_state: dict[str, int]
    spend_usd: float
    failures: list[tuple[str, str, str]]  # (job id, kind, message)
    stopped: str | None = None
    possible_duplicates: int = 0

    @property
    def exit_code(self) -> int:
        if self.stopped:
            return 3
        return 0 if self.by_state.get("done", 0) == self.total else 1

    def to_json(self) -> dict[str, object]:
        return {
            "total": self.total,
            "by_state": dict(sorted(self.by_state.items())),
            "spend_usd": self.spend_usd,
            "failures": [{"id": i, "kind": k, "message": m} for i, k, m in self.failures],
            "stopped": self.stopped,
            "possible_duplicates": self.possible_duplicates,
            "exit_code": self.exit_code,
        }


@dataclass(slots=True)
class _Lane:
    """One provider's runtime: its adapter, limits, queue of work and learned durations."""

    adapter: Provider
    limiter: RateLimiter
    gate: ConcurrencyGate
    queue: deque[Job] = field(default_factory=deque)
    durations: DurationEstimate = field(default_factory=DurationEstimate)
    rate_limited_in_a_row: int = 0
    submitting: asyncio.Lock = field(default_factory=asyncio.Lock)
    failures_in_a_row: int = 0  # transient or ambiguous submits: the circuit breaker's count
    out_of_service: str | None = None  # why no more submits go here in this run
    workers: int = 0  # slot workers alive


class _Resubmit(Exception):
    """The task ended failed and may be tried again."""


class Engine:
    """Runs one plan. `stop()` (from a signal handler) makes `run()` return promptly."""

    def __init__(
        self,
        plan: Plan,
        adapters: Mapping[str, Provider],
        transport: Transport,
        clock: Clock,
        journal: Journal,
        state: RunState,
        settings: RunSettings,
        price_of: Callable[[str, Job], float | None],
        checkpoint: Callable[[], None],
        on_event: Callable[[Event, JobRecord | None], None] = lambda e, r: None,
    ) -> None:
        self.plan = plan
        self.transport = transport
        self.clock = clock
        self.journal = journal
        self.state = state
        self.settings = settings
        self.price_of = price_of
        self.checkpoint = checkpoint
        self.on_event = on_event
        self.rng = random.Random(settings.seed)
        self.backoff = Backoff()
        self.lanes = {
            name: _Lane(
                adapter,
                RateLimiter(settings.submit_rate[name], clock),
                ConcurrencyGate(settings.concurrency[name]),
            )
            for name, adapter in adapters.items()
        }
        self.fetcher = Fetcher(
            self,
            transport,
            clock,
            settings.out_dir,
            settings.download_attempts,
            self.rng,
            self.backoff,
        )
        self.jobs_by_key = {job.key: job for job in plan.jobs}
        self.stopped: str | None = None
        self.budget = Budget(settings.budget_usd, state.spend_usd)
        self.budget_reached: str | None = None
        self._running = False
        self._slots: set[asyncio.Task[None]] = set()
        self._slots_idle = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._sending: set[asyncio.Task[str]] = set()

    # -- events -------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        """Journal one event, fold it into the state, and tell the display."""
        event["t"] = round(self.clock.time(), 3)
        self.journal.append(event)
        self.state.apply(event)
        key = event.get("key")
        self.on_event(event, self.state.jobs.get(key) if isinstance(key, str) else None)

    async def emit_durable(self, event: Event) -> None:
        """Journal an event that records money or a task id, and wait until it is on disk."""
        self.emit(event)
        await self.journal.commit()

    def record(self, job: Job) -> JobRecord:
        return self.state.record(job.key)

    # -- the run ------------------------------------------------------------------------

    async def run(self) -> RunSummary:
        self.emit({"ev": "run", "jobs": len(self.plan.jobs)})
        self.fetcher.start(self.settings.downloads)
        self._workers = [*self.fetcher.tasks, asyncio.create_task(self._checkpoints())]
        self._running = True
        self._slots_idle.set()
        for job in self.plan.jobs:
            self._register(job)
            self._route(job)
        try:
            await self._slots_idle.wait()
            await self.fetcher.finish()
        except asyncio.CancelledError:
            if not self.stopped:
                raise
        finally:
            self._running = False
            if self._sending:  # let answers to submits already sent arrive and be journaled
                await asyncio.wait(self._sending, timeout=SUBMIT_DRAIN_SECONDS)
            for task in [*self._workers, *self._slots]:
                task.cancel()
            await asyncio.gather(*self._workers, *self._slots, return_exceptions=True)
            self.journal.sync()
        return self.summary()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Start a slot worker; `run` waits until none is left."""
        task = asyncio.ensure_future(coroutine)
        self._slots.add(task)
        self._slots_idle.clear()

        def finished(done: asyncio.Task[None]) -> None:
            self._slots.discard(done)
            if not self._slots:
                self._slots_idle.set()

        task.add_done_callback(finished)

    def stop(self, reason: str) -> None:
        """Stop submitting and polling now; everything known is already in the journal."""
        if self.stopped is None:
            self.stopped = reason
            self.emit({"ev": "stop", "reason": reason})
        for task in [*self._workers, *self._slots]:
            task.cancel()

    def summary(self) -> RunSummary:
        by_state: dict[str, int] = {}
        failures = []
        duplicates = 0
        for job in self.plan.jobs:
            rec = self.record(job)
            by_state[rec.state] = by_state.get(rec.state, 0) + 1
            duplicates += rec.possible_duplicates
            if rec.state == "failed" and rec.error:
                failures.append((job.id, rec.error["kind"], rec.error["message"]))
        return RunSummary(
            total=len(self.plan.jobs),
            by_state=by_state,
            spend_usd=self.state.spend_usd,
            failures=failures,
            stopped=self.stopped or self.budget_reached,
            possible_duplicates=duplicates,
        )

    def _register(self, job: Job) -> None:
        rec = self.state.jobs.get(job.key)
        source = {"file": job.source.file, "line": job.source.line}
        if rec is None or rec.id != job.id or rec.source != source:
            self.emit(
                {
                    "ev": "job",
                    "key": job.key,
                    "id": job.id,
                    "sample": job.sample,
                    "request": job.request.to_json(),
                    "source": source,
                }
            )

    def _route(self, job: Job) -> None:
        """Resume rules: skip what is done, re-attach what was sent, queue the rest."""
        rec = self.record(job)
        if rec.state == "done":
            if probe.file_matches(self.settings.out_dir, rec):
                return
            self.emit({"ev": "retry", "key": job.key, "download": True})
        if rec.state == "failed":
            kind = (rec.error or {}).get("kind")
            if not self.settings.retry_failed and kind != "budget":  # budget: a new run, new money
                return
            self.emit(
                {
                    "ev": "retry",
                    "key": job.key,
                    "download": (rec.error or {}).get("kind") == "expired",
                }
            )
        if rec.state == "downloading":
            self.fetcher.put(job, None)
            return
        if rec.task_id or rec.state in ("submitting", "unknown"):
            self._enqueue(self.lanes[rec.provider or job.providers[0]], job, first=True)
            return  # in flight at its provider: attach first, never move
        lane = self._lane_for(job)
        if lane is None:
            self.fail(job, "invalid_input", "no provider in the list can make this video")
        else:
            self._enqueue(lane, job)

    # -- providers: which lane takes a job, and lanes that go out of service ------------

    def _lane_for(self, job: Job) -> _Lane | None:
        """The first provider in the job's failover order that is in service and able."""
        for name in job.providers:
            lane = self.lanes[name]
            if lane.out_of_service is None and self._can_take(lane, job):
                return lane
        return None

    def _can_take(self, lane: _Lane, job: Job) -> bool:
        """Sells this video, and under a budget, at a known price."""
        if provider_violations(lane.adapter.capabilities, job.request):
            return False
        return self.budget.limit is None or self.price_of(lane.adapter.name, job) is not None

    def _enqueue(self, lane: _Lane, job: Job, *, first: bool = False) -> None:
        if first:
            lane.queue.appendleft(job)
        else:
            lane.queue.append(job)
        while lane.workers < min(lane.gate.ceiling, len(lane.queue)) and self._running:
            lane.workers += 1
            self._spawn(self._slot(lane))

    def _take_out_of_service(self, lane: _Lane, reason: str, job: Job | None) -> None:
        """No more submits to this provider in this run: its waiting jobs fail over.

        Jobs it already accepted stay with it (they are polled there); a job no other
        provider can take stops the run, state saved, with the reason.
        """
        if lane.out_of_service is None:
            lane.out_of_service = reason
            self.emit({"ev": "provider_down", "provider": lane.adapter.name, "reason": reason})
        waiting = [job] if job is not None else []
        waiting += lane.queue
        lane.queue.clear()
        for item in waiting:
            target = self._lane_for(item)
            if target is None:
                self.stop(reason)
                return
            self._enqueue(target, item)

    # -- a slot: one task at the provider at a time ---------------------------------------

    async def _slot(self, lane: _Lane) -> None:
        try:
            while lane.queue:
                job = lane.queue.popleft()
                await lane.gate.acquire()
                try:
                    await self._carry(lane, job)
                finally:
                    await lane.gate.release()
        finally:
            lane.workers -= 1

    async def _carry(self, lane: _Lane, job: Job) -> None:
        """Take one job from wherever it stands to a finished task (or a final failure)."""
        while True:
            rec = self.record(job)
            task_id = rec.task_id
            if rec.state in ("submitting", "unknown"):  # left so by a killed run
                price = self.price_of(lane.adapter.name, job) or 0.0
                self.budget.settle(price)  # that submit may have been paid for
                task_id = await self._find_lost_task(lane, job, price)
            if task_id is None:
                task_id = await self._submit(lane, job)
            if task_id is None:
                return
            try:
                await self._follow(lane, job, task_id)
                return
            except _Resubmit:
                continue

    async def _submit(self, lane: _Lane, job: Job) -> str | None:
        """Submit until the provider answers clearly; None when this lane is done with the
        job (it failed, moved to another provider, or the run is stopping).

        The price is reserved first, so concurrent submits cannot overshoot the budget.
        An ambiguous answer (the request may have created a task) is journaled as
        `unknown` and looked up before anything is sent again; after `max_attempts`
        such submits the job fails rather than keep paying into the dark.
        """
        adapter = lane.adapter
        retries = 0
        while True:
            if lane.out_of_service is not None:
                self._take_out_of_service(lane, lane.out_of_service, job)
                return None
            price = self.price_of(adapter.name, job) or 0.0
            if not self.budget.reserve(price):
                self._over_budget(job, price)
                return None
            await lane.limiter.acquire()
            try:
                request = adapter.submit_request(job.request, _images(job))
            except ProviderError as err:
                self.budget.release(price)
                self.fail(job, err.kind, err.message)
                return None
            # One submit in flight per provider: a kill can then leave at most one submit
            # per provider unanswered, the only way a task can be paid for twice. Inside,
            # only appends (they survive a kill); the fsync follows outside.
            async with lane.submitting:
                self.emit({"ev": "submitting", "key": job.key, "provider": adapter.name})
                # shielded: a Ctrl-C must not drop the answer to a submit already sent
                outcome = await asyncio.gather(
                    asyncio.shield(self._track(self._send(lane, job, request))),
                    return_exceptions=True,
                )
            await self.journal.commit()
            retries += 1
            try:
                task_id = _result(outcome[0])
            except TransportError as exc:
                if exc.sent:
                    self.budget.settle(price)  # it may have been paid for
                    found = await self._after_ambiguous(lane, job, str(exc), price)
                    if found != "":
                        return found
                else:
                    self.budget.release(price)
                    self._refused(job, "transient", str(exc))
                self._count_failure(lane, job)
                await self.clock.sleep(self.backoff.delay(retries, self.rng))
                continue
            except ProviderError as err:
                if _ambiguous(err):
                    self.budget.settle(price)
                    found = await self._after_ambiguous(lane, job, err.message, price)
                    if found != "":
                        return found
                    self._count_failure(lane, job)
                    await self.clock.sleep(self.backoff.delay(retries, self.rng))
                    continue
                self.budget.release(price)
                self._refused(job, err.kind, err.message)
                if not self._may_retry(lane, job, err):
                    return None
                if lane.out_of_service is None:
                    await self.clock.sleep(self._delay(lane, retries, err))
                continue
            self.budget.settle(price)
            lane.failures_in_a_row = 0
            await lane.gate.grow()
            return task_id

    def _over_budget(self, job: Job, price: float) -> None:
        left = self.budget.left or 0.0
        self.fail(
            job,
            "budget",
            f"${price:.2f} would exceed the budget (${left:.2f} of ${self.budget.limit:.2f} left)",
        )
        if self.budget_reached is None:
            self.budget_reached = f"budget of ${self.budget.limit:.2f} reached"

    def _count_failure(self, lane: _Lane, job: Job) -> None:
        """A circuit breaker: after repeated transient failures the provider is taken out
        of service for this run, and its waiting jobs go to the next provider."""
        lane.failures_in_a_row += 1
        if lane.failures_in_a_row >= self.settings.circuit_threshold:
            name = lane.adapter.name
            self._take_out_of_service(
                lane, f"{name} is down ({lane.failures_in_a_row} failed submits in a row)", None
            )

    async def _send(self, lane: _Lane, job: Job, request: HttpRequest) -> str:
        """Send one submit and journal the task id it creates, even if the run is stopping."""
        task_id = lane.adapter.parse_submit(await self.transport.send(request))
        self._submitted(lane, job, task_id)
        return task_id

    def _track(self, coroutine: Coroutine[Any, Any, str]) -> asyncio.Task[str]:
        task = asyncio.ensure_future(coroutine)
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
        return task

    async def _after_ambiguous(
        self, lane: _Lane, job: Job, message: str, price: float
    ) -> str | None:
        """The task id found for an ambiguous submit; "" to submit again; None if failed."""
        await self.emit_durable({"ev": "unknown", "key": job.key, "message": message})
        task_id = await self._find_lost_task(lane, job, price)
        if task_id is not None:
            return task_id
        if self.record(job).attempts >= self.settings.max_attempts:
            self.fail(job, "provider_error", f"submits keep getting no answer ({message})")
            return None
        return ""

    def _submitted(self, lane: _Lane, job: Job, task_id: str, **extra: object) -> None:
        """Journal an accepted task (the caller commits it to disk before acting on it)."""
        cost = self.price_of(lane.adapter.name, job)
        lane.rate_limited_in_a_row = 0
        self.emit(
            {
                "ev": "submitted",
                "key": job.key,
                "task_id": task_id,
                "cost_usd": cost or 0.0,
                **extra,
            }
        )

    def _refused(self, job: Job, kind: str, message: str) -> None:
        self.emit({"ev": "refused", "key": job.key, "kind": kind, "message": message})

    def _may_retry(self, lane: _Lane, job: Job, err: ProviderError) -> bool:
        """Decide what a clear refusal means for the job, the provider and the run."""
        if err.kind == "rate_limited":
            lane.rate_limited_in_a_row += 1
            if lane.rate_limited_in_a_row >= 2:
                lane.gate.shrink()  # repeated "too many": fewer tasks in flight for a while
            return True
        if err.kind == "transient":
            self._count_failure(lane, job)
            return True  # the next turn of the submit loop fails over if the lane is out
        if err.kind == "auth":
            self._take_out_of_service(
                lane, f"{err.provider} refused the API key: {err.message}", job
            )
        elif err.kind == "quota":
            self._take_out_of_service(lane, f"{err.provider} is out of balance: {err.message}", job)
        else:
            self.fail(job, err.kind, err.message)
        return False

    def _delay(self, lane: _Lane, retries: int, err: ProviderError) -> float:
        delay = self.backoff.delay(retries, self.rng, err.retry_after)
        if err.kind == "rate_limited":
            lane.limiter.pause_until(self.clock.now() + delay)
        return delay

    async def _find_lost_task(self, lane: _Lane, job: Job, price: float = 0.0) -> str | None:
        """Look for the task an ambiguous submit may have created; journal what was decided.

        Where the provider lists recent tasks, a match by request body is adopted and a
        miss means nothing was created. Elsewhere we cannot know: the job is submitted
        again and counted as a possible duplicate.
        """
        adapter = lane.adapter
        if not isinstance(adapter, TaskFinder):
            self._possible_duplicate(job, price)
            return None
        body = adapter.submit_request(job.request, _images(job)).json or {}
        owned = {r.task_id for r in self.state.jobs.values() if r.task_id}
        for retries in range(1, 6):
            try:
                response = await self.transport.send(adapter.list_request())
                task_id = adapter.find_task(response, body, exclude=owned)
            except (TransportError, ProviderError):
                await self.clock.sleep(self.backoff.delay(retries, self.rng))
                continue
            if task_id is not None:
                self._submitted(lane, job, task_id, reconciled=True)
                await self.journal.commit()
                return task_id
            self.emit({"ev": "resubmit", "key": job.key, "possible_duplicate": False})
            return None
        self._possible_duplicate(job, price)
        return None

    def _possible_duplicate(self, job: Job, price: float) -> None:
        """Submit again without knowing whether the last one was paid: count its price."""
        self.emit({"ev": "resubmit", "key": job.key, "possible_duplicate": True, "cost_usd": price})

    # -- following a task -----------------------------------------------------------------

    async def _follow(self, lane: _Lane, job: Job, task_id: str) -> None:
        """Poll until the task ends; hand a success to the downloads."""
        adapter = lane.adapter
        started = self.clock.now()
        delay = first_poll_delay(lane.durations.typical)
        errors = 0
        last_state = self.record(job).state
        unfinished_at = 0.0  # age at the last poll that saw the task unfinished
        while True:
            await self.clock.sleep(delay)
            try:
                status = await self._status(adapter, task_id)
            except (TransportError, ProviderError) as exc:
                errors += 1
                if isinstance(exc, ProviderError) and exc.kind == "auth":
                    self.stop(f"{exc.provider} refused the API key: {exc.message}")
                    return
                if errors >= self.settings.poll_error_limit:
                    self.fail(job, "provider_error", f"task {task_id} cannot be polled: {exc}")
                    return
                retry_after = exc.retry_after if isinstance(exc, ProviderError) else None
                delay = self.backoff.delay(errors, self.rng, retry_after)
                continue
            errors = 0
            age = self.clock.now() - started
            if status.state in ("queued", "running") and status.state != last_state:
                last_state = status.state
                self.emit({"ev": "progress", "key": job.key, "state": status.state})
            if status.state == "succeeded":
                lane.durations.add((unfinished_at + age) / 2)
                self.emit({"ev": "downloading", "key": job.key})
                self.fetcher.put(job, status)
                return
            if status.state == "failed":
                self._task_failed(job, status)
                return
            unfinished_at = age
            delay = next_poll_delay(status, age, lane.durations.typical)

    async def _status(self, adapter: Provider, task_id: str) -> TaskStatus:
        """Poll once; follow the extra hop to a URL where the provider has one."""
        status = adapter.parse_poll(await self.transport.send(adapter.poll_request(task_id)))
        if status.state == "finalizing":
            hop = adapter.retrieve_request(status)
            if hop is not None:
                status = adapter.parse_retrieve(await self.transport.send(hop))
        return status

    def _task_failed(self, job: Job, status: TaskStatus) -> None:
        """Fail the job for good, or raise `_Resubmit` while attempts remain."""
        kind = status.failure or "provider_error"
        if kind in ("rate_limited", "transient"):  # the task is over: no longer a hint
            kind = "provider_error"
        rec = self.record(job)
        final = kind in ("invalid_input", "content_policy")
        if final or rec.attempts >= self.settings.max_attempts:
            note = "" if final else f" (after {rec.attempts} attempts)"
            self.fail(job, kind, f"{status.message or 'task failed'}{note}")
            return
        self.emit({"ev": "resubmit", "key": job.key, "reason": status.message})
        raise _Resubmit

    def fail(self, job: Job, kind: str, message: str) -> None:
        self.emit({"ev": "failed", "key": job.key, "kind": kind, "message": message})

    async def fresh_status(self, job: Job) -> TaskStatus:
        """Ask the job's provider about its task again, for a fresh video URL."""
        rec = self.record(job)
        lane = self.lanes.get(rec.provider or "")
        if lane is None or rec.task_id is None:
            raise LookupError(f"no provider knows a task for job {job.id}")
        return await self._status(lane.adapter, rec.task_id)

    async def _checkpoints(self) -> None:
        """Make the journal durable often, and write the lockfile every few seconds so a
        long run can be watched and diffed."""
        ticks = max(round(self.settings.checkpoint_every / SYNC_EVERY), 1)
        while True:
            for _ in range(ticks):
                await asyncio.sleep(SYNC_EVERY)
                await self.journal.commit()
            self.checkpoint()


def _result(outcome: str | BaseException) -> str:
    """The task id, or re-raise what the submit raised."""
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _ambiguous(err: ProviderError) -> bool:
    """A submit error after which the task may exist: a timeout, a 5xx other than 503,
    or a garbled 2xx. 503 (and 429) say the server did not take the request (RFC 9110)."""
    if err.kind != "transient" or err.status == 503:
        return False
    return err.status is None or err.status >= 500 or 200 <= err.status < 300 or err.status == 408


def _images(job: Job) -> SubmitImages:
    request = job.request
    return SubmitImages(
        first=images.data_uri(request.image) if request.image else None,
        last=images.data_uri(request.end_image) if request.end_image else None,
    )
