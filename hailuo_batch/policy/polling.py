"""When to ask about a task again: pure pacing from the provider's hints. No I/O.

Polling 100k tasks every 5 s would be 20k requests/s, and a fixed 10 s notices a 1 s
task 9 s late, so the next poll is placed where the task should end, from (in order):
the provider's eta; its progress and the task's age; how long this provider's tasks
have run so far; else a step that grows with the task's age. The same expected end
tells the engine when to start the next submit, so a slot at the provider never
waits for it (`remaining`). Seconds throughout.
"""

from __future__ import annotations

from hailuo_batch.core.http import TaskStatus

MIN_DELAY = 0.05
MAX_DELAY = 30.0
PAD = 0.01  # land just after the expected end, not just before it
PROGRESS_STEP = 0.01  # providers round progress to whole percents: read the step's middle


def _clamp(seconds: float) -> float:
    return min(max(seconds, MIN_DELAY), MAX_DELAY)


def first_poll_delay(typical: float | None, lead: float = 0.0) -> float:
    """Early enough to learn the provider's eta, and before the moment (`lead` seconds
    ahead of the expected end) the next submit should start, so the second poll can
    land on the end."""
    if not typical:
        return 1.0
    return _clamp(min(0.5 * typical, typical - lead - PAD))


def remaining(status: TaskStatus, age: float, typical: float | None) -> float | None:
    """Seconds until a running task `age` seconds old should end, or None when nothing says.

    With both an eta and a progress, the sooner wins: etas come in whole seconds
    (Novita's 1 s eta for 0.3 s left would make every poll 0.7 s late), and an early
    poll costs one request while a late one costs the whole batch time.
    """
    hints = []
    if status.eta:
        hints.append(status.eta)
    progress = status.progress
    if progress and 0.0 < progress < 1.0 and age > 0:
        middle = min(progress + PROGRESS_STEP / 2, 1.0 - PROGRESS_STEP / 2)
        hints.append(age * (1.0 - middle) / middle)
    if hints:
        return min(hints)
    if typical and age < typical:
        return typical - age
    return None


def next_poll_delay(status: TaskStatus, age: float, typical: float | None) -> float:
    """Seconds until the next poll: just after the expected end, else a step that grows
    with the task's age."""
    left = remaining(status, age, typical)
    if left is not None:
        return _clamp(left + PAD)
    return _clamp(max(age * 0.25, 0.25))


class DurationEstimate:
    """A running mean of how long a provider's tasks run (from when they start running,
    where polls show it, else from submit) to success.

    Each end is the midpoint between the last poll that saw the task unfinished and the
    one that saw it done: the end lies between them, and the late side would otherwise
    make every estimate, and so every first poll, drift later.
    """

    __slots__ = ("_count", "_total")

    def __init__(self) -> None:
        self._total = 0.0
        self._count = 0

    def add(self, seconds: float) -> None:
        self._total += seconds
        self._count += 1

    @property
    def typical(self) -> float | None:
        return self._total / self._count if self._count else None


class LatencyEstimate:
    """How long a provider takes to answer a submit: a moving average (recent answers
    weigh most, as a provider's load changes), None before the first answer."""

    __slots__ = ("value",)

    WEIGHT = 0.2  # of each new answer

    def __init__(self) -> None:
        self.value: float | None = None

    def add(self, seconds: float) -> None:
        old = self.value
        self.value = seconds if old is None else old + self.WEIGHT * (seconds - old)
