"""The follower: polls an accepted task until it ends, paced by the provider's hints.

Polls land just after the expected end (`policy.polling`); a little before it, the job
hands its place in the lane on, so the next submit's task reaches the provider as this
one frees its slot.

A success goes to the downloads (after the retrieve hop where a provider has one); a
failed task is decided by `policy.decisions.on_task_failure`: submitted again while
attempts remain, or failed for good. Times are in seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Protocol

from hailuo_batch.core import events as ev
from hailuo_batch.core.clock import Clock
from hailuo_batch.core.http import TaskStatus
from hailuo_batch.core.jobs import Job
from hailuo_batch.engine.lanes import Hold, Lane
from hailuo_batch.engine.recorder import Recorder
from hailuo_batch.errors import ProviderError, TransportError
from hailuo_batch.policy import decisions
from hailuo_batch.policy.polling import first_poll_delay, next_poll_delay, remaining
from hailuo_batch.policy.retry import Backoff
from hailuo_batch.providers import Provider
from hailuo_batch.transport import Transport


class FollowHost(Protocol):
    """What following needs from the run it belongs to."""

    def fail(self, job: Job, kind: str, message: str, stage: str = "submit") -> None: ...

    def stop(self, reason: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Succeeded:
    """The task made its video: here is where to fetch it."""

    status: TaskStatus


@dataclass(frozen=True, slots=True)
class SubmitAgain:
    """The task failed and the job may be tried again."""


FollowResult = Succeeded | SubmitAgain | None
"""None: the job is finished here (failed for good), or the run is stopping."""


class Follower:
    """Follows tasks for every lane of one run."""

    def __init__(
        self,
        host: FollowHost,
        recorder: Recorder,
        transport: Transport,
        clock: Clock,
        rng: random.Random,
        backoff: Backoff,
        *,
        max_attempts: int = 3,
        poll_error_limit: int = 30,
    ) -> None:
        self.host = host
        self.recorder = recorder
        self.transport = transport
        self.clock = clock
        self.rng = rng
        self.backoff = backoff
        self.max_attempts = max_attempts
        self.poll_error_limit = poll_error_limit

    async def follow(
        self, lane: Lane, job: Job, task_id: str, hold: Hold | None = None
    ) -> FollowResult:
        """Poll until the task ends; hand `hold` on to the next submit just before."""
        clock = self.clock
        started = clock.now()
        delay = first_poll_delay(lane.durations.typical, lane.lead() or 0.0)
        ends_in: float | None = None  # expected end, seconds after the coming sleep starts
        errors = 0
        last_state = self.recorder.record(job.key).state
        queued_at = None  # age at the last poll that saw the task queued
        running_from = None  # age the task started running at, as well as polls tell
        unfinished_at = 0.0  # age at the last poll that saw the task unfinished
        while True:
            await self._wait(delay, ends_in, lane, hold)
            try:
                status = await self.status(lane.adapter, task_id)
            except (TransportError, ProviderError) as exc:
                errors += 1
                if isinstance(exc, ProviderError) and exc.kind == "auth":
                    self.host.stop(f"{exc.provider} refused the API key: {exc.message}")
                    return None
                if errors >= self.poll_error_limit:
                    message = f"task {task_id} cannot be polled: {exc}"
                    self.host.fail(job, "provider_error", message, "task")
                    return None
                retry_after = exc.retry_after if isinstance(exc, ProviderError) else None
                delay, ends_in = self.backoff.delay(errors, self.rng, retry_after), None
                continue
            errors = 0
            age = clock.now() - started
            if status.state in ("queued", "running") and status.state != last_state:
                last_state = status.state
                self.recorder.emit(ev.Progressed(key=job.key, state=status.state))
            if status.state == "queued":
                queued_at = age
            elif status.state == "running" and running_from is None:
                running_from = 0.0 if queued_at is None else (queued_at + age) / 2
            if status.state == "succeeded":
                lane.durations.add((unfinished_at + age) / 2 - (running_from or 0.0))
                self.recorder.emit(ev.Downloading(key=job.key))
                return Succeeded(status)
            if status.state == "failed":
                return self._task_failed(job, status)
            unfinished_at = age
            ran = age - (running_from or 0.0)
            delay = next_poll_delay(status, ran, lane.durations.typical)
            running = status.state == "running"
            ends_in = remaining(status, ran, lane.durations.typical) if running else None

    async def _wait(
        self, delay: float, ends_in: float | None, lane: Lane, hold: Hold | None
    ) -> None:
        """Sleep until the next poll; on the way, hand the slot on when the task is due
        to end within the time a submit takes (`Lane.lead`)."""
        lead = lane.lead()
        if hold is None or not hold.held or ends_in is None or lead is None:
            await self.clock.sleep(delay)
            return
        early = min(max(ends_in - lead, 0.0), delay)
        if early > 0:
            await self.clock.sleep(early)
        hold.hand_on()
        if delay > early:
            await self.clock.sleep(delay - early)

    def _task_failed(self, job: Job, status: TaskStatus) -> FollowResult:
        attempts = self.recorder.record(job.key).attempts
        decision = decisions.on_task_failure(
            status.failure, status.message, attempts, self.max_attempts
        )
        if isinstance(decision, decisions.FailJob):
            self.host.fail(job, decision.kind, decision.message, "task")
            return None
        self.recorder.emit(ev.Resubmit(key=job.key, reason=decision.reason))
        return SubmitAgain()

    async def status(self, adapter: Provider, task_id: str) -> TaskStatus:
        """Poll once; follow the extra hop to a URL where the provider has one."""
        status = adapter.parse_poll(await self.transport.send(adapter.poll_request(task_id)))
        if status.state == "finalizing":
            hop = adapter.retrieve_request(status)
            if hop is not None:
                status = adapter.parse_retrieve(await self.transport.send(hop))
        return status
