"""Lanes: one per provider of a run, and the routing between them (failover). No I/O.

A lane holds a provider's adapter, its limits (submit rate, tasks in flight, the submit
window), its queue of jobs, its breaker and what it learned of task durations. Lanes
for providers the manifest no longer lists still follow the tasks they hold (`follows_only`):
nothing new is submitted there. Routing picks, for a job, the first provider of its
failover list that is in service and sells the video; taking a provider out of service
moves its waiting jobs on.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from hailuo_batch.core.capabilities import provider_violations
from hailuo_batch.core.jobs import Job
from hailuo_batch.policy.breaker import Breaker
from hailuo_batch.policy.limits import ConcurrencyGate, RateLimiter
from hailuo_batch.policy.polling import DurationEstimate
from hailuo_batch.providers import Provider


@dataclass(slots=True)
class Lane:
    """One provider's runtime in a run."""

    adapter: Provider
    limiter: RateLimiter
    gate: ConcurrencyGate
    window: asyncio.Semaphore  # submits in flight at once: a kill leaves at most this many
    follows_only: bool = False  # not in the manifest: follows its tasks, takes no new job
    attach: deque[Job] = field(default_factory=deque)  # held here: followed first, never moved
    queue: deque[Job] = field(default_factory=deque)  # to submit: may fail over elsewhere
    durations: DurationEstimate = field(default_factory=DurationEstimate)
    breaker: Breaker = field(default_factory=Breaker)
    rate_limited_in_a_row: int = 0
    out_of_service: str | None = None  # why no more submits go here in this run
    workers: int = 0  # slot workers alive

    @property
    def name(self) -> str:
        return self.adapter.name

    def __repr__(self) -> str:
        state = self.out_of_service or ("follows only" if self.follows_only else "in service")
        return f"<Lane {self.name} {state} queued={len(self.queue)} {self.gate!r}>"

    def waiting(self) -> int:
        return len(self.attach) + len(self.queue)

    def next_job(self) -> Job | None:
        if self.attach:
            return self.attach.popleft()
        if self.queue and self.out_of_service is None:
            return self.queue.popleft()
        return None


class Lanes:
    """The lanes of a run, by provider name, and which one takes a job."""

    def __init__(self, lanes: Iterable[Lane], can_price: Callable[[str, Job], bool]) -> None:
        self.by_name: dict[str, Lane] = {lane.name: lane for lane in lanes}
        self._can_price = can_price

    def __getitem__(self, name: str) -> Lane:
        return self.by_name[name]

    def get(self, name: str | None) -> Lane | None:
        return self.by_name.get(name or "")

    def __iter__(self) -> Iterator[Lane]:
        return iter(self.by_name.values())

    def lane_for(self, job: Job) -> Lane | None:
        """The first provider in the job's failover order that is in service and able."""
        for name in job.providers:
            lane = self.by_name.get(name)
            if lane is not None and self.can_take(lane, job):
                return lane
        return None

    def can_take(self, lane: Lane, job: Job) -> bool:
        """In service, sells this video, and (under a budget) at a known price."""
        if lane.out_of_service is not None or lane.follows_only:
            return False
        if provider_violations(lane.adapter.capabilities, job.request):
            return False
        return self._can_price(lane.name, job)

    def take_out_of_service(self, lane: Lane, reason: str) -> list[Job]:
        """No more submits to `lane` in this run; its waiting jobs, to route elsewhere.

        Jobs it already holds (`attach`) stay with it: they are followed there.
        """
        lane.out_of_service = reason
        waiting = list(lane.queue)
        lane.queue.clear()
        return waiting

    def out_of_service(self) -> Mapping[str, str]:
        return {lane.name: lane.out_of_service for lane in self if lane.out_of_service}
