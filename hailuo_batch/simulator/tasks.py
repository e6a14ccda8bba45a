"""Provider tasks on a clock: queued -> running -> succeeded or failed. No I/O.

A task's whole timeline is fixed when it is created, so its state at any instant is a pure
function of the clock: no timer or background coroutine per task, and thousands of tasks
cost nothing. Times are clock seconds (monotonic by default); `epoch()` converts them to
Unix time (`epoch0` is the Unix time of clock zero) for the fields that show timestamps.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from hailuo_batch.simulator.video import VideoSpec

Clock = Callable[[], float]
Phase = Literal["queued", "running", "succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a task stands at one instant."""

    phase: Phase
    fraction: float  # share of the generation done, 0..1
    eta: float  # seconds until the task ends; 0 once it has
    changed: float  # clock time the current phase began

    @property
    def finished(self) -> bool:
        return self.phase in ("succeeded", "failed")


@dataclass(frozen=True, slots=True)
class Task:
    """One accepted submit: what it makes and when it starts and ends."""

    id: str
    model: str  # the provider's own label: model id, or Novita's task type
    prompt: str
    echo: Mapping[str, object]  # what the provider shows back of the request (GMI's payload)
    spec: VideoSpec
    created: float
    starts: float
    ends: float
    fails: bool
    file_id: str = ""  # a second handle for the result, where the provider has one (MiniMax)
    image: str | None = None  # sha256 of the first-frame image, to draw it (`FirstFrames`)

    def at(self, now: float) -> Progress:
        if now < self.starts:
            return Progress("queued", 0.0, self.ends - now, self.created)
        if now < self.ends:
            fraction = (now - self.starts) / (self.ends - self.starts)
            return Progress("running", fraction, self.ends - now, self.starts)
        return Progress("failed" if self.fails else "succeeded", 1.0, 0.0, self.ends)


class TaskBoard:
    """One provider's tasks, generated at most `max_concurrent` at a time, first come first served.

    The slots are a heap of the times each becomes free: a new task starts at the later of
    its creation and the earliest free slot, which is exactly a FIFO queue in front of
    `max_concurrent` workers. Restored tasks (from an earlier instance) keep their times and
    take their slots in the order they were created, so new tasks queue behind them.
    """

    __slots__ = (
        "_clock",
        "_epoch0",
        "_failure_rate",
        "_files",
        "_first_asked",
        "_full_at",
        "_gen_seconds",
        "_jitter",
        "_made_here",
        "_rng",
        "_slots",
        "_tasks",
    )

    def __init__(
        self,
        *,
        gen_seconds: float,
        jitter: float,
        max_concurrent: int,
        failure_rate: float,
        rng: random.Random,
        clock: Clock,
        epoch0: float,
    ) -> None:
        self._gen_seconds = gen_seconds
        self._jitter = jitter
        self._failure_rate = failure_rate
        self._rng = rng
        self._clock = clock
        self._epoch0 = epoch0
        # Free since forever: a start is max(now, slot), and a restore replays exactly.
        self._slots = [-math.inf] * max_concurrent
        self._tasks: dict[str, Task] = {}
        self._files: dict[str, str] = {}  # file id -> task id
        self._made_here: list[float] = []  # how long each task created here took, in order
        self._first_asked: float | None = None  # when the first submit arrived
        self._full_at: float | None = None  # when every slot first had a task running

    def __repr__(self) -> str:
        now = self._clock()
        phases = [task.at(now).phase for task in self._tasks.values()]
        counts = {phase: phases.count(phase) for phase in ("queued", "running")}
        return f"<TaskBoard tasks={len(phases)} {counts} slots={len(self._slots)}>"

    def now(self) -> float:
        return self._clock()

    def epoch(self, at: float) -> float:
        """Unix time of clock time `at`."""
        return self._epoch0 + at

    def asked(self) -> None:
        """A submit arrived (before its latency): the start of `slots_full_after`."""
        if self._first_asked is None:
            self._first_asked = self._clock()

    def create(
        self,
        task_id: str,
        *,
        model: str,
        prompt: str,
        echo: Mapping[str, object],
        spec: VideoSpec,
        file_id: str = "",
        image: str | None = None,
    ) -> Task:
        now = self._clock()
        starts = max(now, heapq.heappop(self._slots))
        length = self._gen_seconds * self._rng.uniform(1 - self._jitter, 1 + self._jitter)
        fails = self._rng.random() < self._failure_rate
        if fails:  # failures come part-way through, as moderation of partial output does
            length *= self._rng.uniform(0.3, 1.0)
        task = Task(
            task_id, model, prompt, echo, spec, now, starts, starts + length, fails, file_id, image
        )
        heapq.heappush(self._slots, task.ends)
        self._add(task)
        self._made_here.append(task.ends - starts)
        if self._full_at is None and self._slots[0] > now:
            self._full_at = now
        return task

    def slots_full_after(self) -> float | None:
        """Seconds from the first submit's arrival until every slot was busy, if ever."""
        if self._full_at is None or self._first_asked is None:
            return None
        return self._full_at - self._first_asked

    def ideal_makespan(self) -> float:
        """How long the tasks created here would take had every one been submitted at once:
        their actual durations, first come first served on the same slots. The bound no
        client can beat, whatever its latency; a benchmark's yardstick."""
        slots = [0.0] * len(self._slots)
        for length in self._made_here:
            heapq.heapreplace(slots, slots[0] + length)
        return max(slots)

    def restore(self, task: Task) -> None:
        """Take back a task an earlier instance created, as it was scheduled there.

        Replaying pops and pushes in creation order rebuilds that instance's slot heap.
        """
        heapq.heapreplace(self._slots, task.ends)
        self._add(task)

    def _add(self, task: Task) -> None:
        self._tasks[task.id] = task
        if task.file_id:
            self._files[task.file_id] = task.id

    def get(self, task_id: str) -> Task | None:
        return self._tasks.get(task_id)

    def by_file(self, file_id: str) -> Task | None:
        """The task whose result has this file id."""
        task_id = self._files.get(file_id)
        return None if task_id is None else self._tasks[task_id]

    def newest_first(self) -> list[Task]:
        return list(reversed(self._tasks.values()))
