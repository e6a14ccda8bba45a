"""Lanes: one per provider of a run, and the routing between them (failover). No I/O.

A lane holds a provider's adapter, its limits (submit rate, tasks in flight, the submit
window), its queue of jobs, its breaker and what it learned of task durations and submit
latency. A job holds its place in the lane (`Hold`) until its task ends, or hands it on
to the next submit just before. Routing (`Lanes`) is failover or spread. Lanes
for providers the manifest no longer lists still follow the tasks they hold (`follows_only`):
nothing new is submitted there. Routing picks, for a job, the first provider of its
failover list that is in service and sells the video; taking a provider out of service
moves its waiting jobs on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from hailuo_batch.core.capabilities import provider_violations
from hailuo_batch.core.jobs import Job
from hailuo_batch.policy.breaker import Breaker
from hailuo_batch.policy.limits import ConcurrencyGate, RateLimiter, SubmitWindow
from hailuo_batch.policy.polling import DurationEstimate, LatencyEstimate
from hailuo_batch.providers import Provider

LEAD_PAD = 0.25  # seconds: an expected end is a guess; early costs the provider a short queue


@dataclass(slots=True)
class Lane:
    """One provider's runtime in a run."""

    adapter: Provider
    limiter: RateLimiter
    gate: ConcurrencyGate
    window: SubmitWindow  # submits in flight at once: a kill leaves at most its ceiling
    follows_only: bool = False  # not in the manifest: follows its tasks, takes no new job
    attach: deque[Job] = field(default_factory=deque)  # held here: followed first, never moved
    queue: deque[Job] = field(default_factory=deque)  # to submit: may fail over elsewhere
    pools: list[deque[Job]] = field(default_factory=list)  # shared with others (spread)
    durations: DurationEstimate = field(default_factory=DurationEstimate)
    latency: LatencyEstimate = field(default_factory=LatencyEstimate)
    breaker: Breaker = field(default_factory=Breaker)
    rate_limited_in_a_row: int = 0
    out_of_service: str | None = None  # why no more submits go here in this run
    workers: int = 0  # slot workers alive
    ahead: int = 0  # tasks whose slot went to the next submit before they ended
    submits_ahead: bool = True  # until the provider says "too many" once

    @property
    def name(self) -> str:
        return self.adapter.name

    def __repr__(self) -> str:
        state = self.out_of_service or ("follows only" if self.follows_only else "in service")
        return f"<Lane {self.name} {state} queued={len(self.queue)} {self.gate!r}>"

    @property
    def most_workers(self) -> int:
        """Slot workers worth having: one per slot, and one per task allowed to end ahead."""
        return self.gate.ceiling + self.window.ceiling

    def lead(self) -> float | None:
        """How long before a task's expected end the next submit should start, so its task
        reaches the provider as the slot frees; None when this lane does not submit ahead."""
        if not self.submits_ahead or self.ahead >= self.window.ceiling:
            return None
        return (self.latency.value or 0.0) + LEAD_PAD

    def waiting(self) -> int:
        return len(self.attach) + len(self.queue) + sum(len(pool) for pool in self.pools)

    def next_job(self) -> Job | None:
        """A job held here first, then one queued here, then one of a shared pool."""
        if self.attach:
            return self.attach.popleft()
        if self.out_of_service is not None:
            return None
        if self.queue:
            return self.queue.popleft()
        for pool in self.pools:
            if pool:
                return pool.popleft()
        return None


class Hold:
    """A job's place in its lane's gate, from its submit until its task ends.

    `hand_on()` gives the place to the next submit a little before the task is due to
    end (`Lane.lead`): the provider's slot then never waits for our answer, at the
    price of at most `window.ceiling` tasks beyond `concurrency` at the provider, each
    for about one submit latency. A task submitted again takes its place back (`take`).
    """

    __slots__ = ("handed_on", "held", "lane")

    def __init__(self, lane: Lane) -> None:
        self.lane = lane
        self.held = False
        self.handed_on = False

    async def take(self) -> None:
        if self.held:
            return
        if self.handed_on:
            self.handed_on = False
            self.lane.ahead -= 1
        await self.lane.gate.acquire()
        self.held = True

    def hand_on(self) -> None:
        if self.held:
            self.held, self.handed_on = False, True
            self.lane.ahead += 1
            self.lane.gate.release()

    def let_go(self) -> None:
        """The task ended (or the job left the lane): free whatever this hold still has."""
        if self.held:
            self.held = False
            self.lane.gate.release()
        elif self.handed_on:
            self.handed_on = False
            self.lane.ahead -= 1


class Lanes:
    """The lanes of a run, by provider name, and which one takes a job.

    `failover` routing gives a job to the first provider of its list that can take it.
    `spread` routing puts it in a pool shared by every provider of its list that can take
    it (one pool per such set): whichever has a free slot takes it next, so all of them
    work at once.
    """

    def __init__(
        self,
        lanes: Iterable[Lane],
        can_price: Callable[[str, Job], bool],
        price_of: Callable[[str, Job], float | None] = lambda name, job: None,
        *,
        spread: bool = False,
    ) -> None:
        self.by_name: dict[str, Lane] = {lane.name: lane for lane in lanes}
        self._can_price = can_price
        self._price_of = price_of
        self.spread = spread
        self._pools: dict[frozenset[str], deque[Job]] = {}

    def __getitem__(self, name: str) -> Lane:
        return self.by_name[name]

    def get(self, name: str | None) -> Lane | None:
        return self.by_name.get(name or "")

    def __iter__(self) -> Iterator[Lane]:
        return iter(self.by_name.values())

    def able(self, job: Job) -> list[Lane]:
        """The lanes that can take the job now, in its failover order."""
        found = (self.by_name.get(name) for name in job.providers)
        return [lane for lane in found if lane is not None and self.can_take(lane, job)]

    def lane_for(self, job: Job) -> Lane | None:
        """The first provider in the job's failover order that is in service and able."""
        return next(iter(self.able(job)), None)

    def route(self, job: Job) -> list[Lane]:
        """Queue a job to submit; the lanes that may take it, the cheapest first (empty:
        none can). Spread: into the pool of every able lane; else the first able's queue."""
        able = self.able(job)
        if not self.spread or len(able) < 2:
            if able:
                able[0].queue.append(job)
            return able[:1]
        self._pool(able).append(job)
        prices = [self._price_of(lane.name, job) for lane in able]
        order = sorted(range(len(able)), key=lambda i: (prices[i] is None, prices[i] or 0.0, i))
        return [able[i] for i in order]

    def _pool(self, lanes: list[Lane]) -> deque[Job]:
        names = frozenset(lane.name for lane in lanes)
        pool = self._pools.get(names)
        if pool is None:
            pool = self._pools[names] = deque()
            for lane in lanes:
                lane.pools.append(pool)
        return pool

    def can_take(self, lane: Lane, job: Job) -> bool:
        """In service, sells this video, and (under a budget) at a known price."""
        if lane.out_of_service is not None or lane.follows_only:
            return False
        if provider_violations(lane.adapter.capabilities, job.request):
            return False
        return self._can_price(lane.name, job)

    def take_out_of_service(self, lane: Lane, reason: str) -> list[Job]:
        """No more submits to `lane` in this run; its waiting jobs, to route elsewhere:
        its own queue, and any pool no lane in service draws from any more.

        Jobs it already holds (`attach`) stay with it: they are followed there.
        """
        lane.out_of_service = reason
        waiting = list(lane.queue)
        lane.queue.clear()
        for names, pool in self._pools.items():
            if lane.name in names and not any(
                self.by_name[name].out_of_service is None for name in names
            ):
                waiting += pool
                pool.clear()
        return waiting

    def out_of_service(self) -> Mapping[str, str]:
        return {lane.name: lane.out_of_service for lane in self if lane.out_of_service}
