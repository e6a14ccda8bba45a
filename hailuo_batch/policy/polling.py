"""When to ask about a task again: pure pacing from the provider's hints. No I/O.

Polling 100k tasks every 5 s would be 20k requests/s, and a fixed 10 s notices a 1 s
task 9 s late, so the next poll is placed where the task should end, from (in order):
the provider's eta; its progress and the task's age; how long this provider's tasks
have taken so far; else a step that grows with the task's age. Seconds throughout.
"""

from __future__ import annotations

from hailuo_batch.core.http import TaskStatus

MIN_DELAY = 0.05
MAX_DELAY = 30.0
PAD = 0.01  # land just after the expected end, not just before it


def _clamp(seconds: float) -> float:
    return min(max(seconds, MIN_DELAY), MAX_DELAY)


def first_poll_delay(typical: float | None) -> float:
    """Early enough to learn the provider's eta, so the second poll can land on the end."""
    return _clamp(0.5 * typical) if typical else 1.0


def next_poll_delay(status: TaskStatus, age: float, typical: float | None) -> float:
    """Seconds until the next poll of a task `age` seconds old, in `status`.

    With both an eta and a progress, the sooner of the two wins: etas come in whole
    seconds (Novita's 1 s eta for 0.3 s left would make every poll 0.7 s late), and
    an early poll costs one request while a late one costs the whole batch time.
    """
    hints = []
    if status.eta:
        hints.append(status.eta)
    if status.progress and 0.0 < status.progress < 1.0 and age > 0:
        hints.append(age * (1.0 - status.progress) / status.progress)
    if hints:
        return _clamp(min(hints) + PAD)
    if typical and age < typical:
        return _clamp(typical - age + PAD)
    return _clamp(max(age * 0.25, 0.25))


class DurationEstimate:
    """A running mean of how long a provider's tasks take from submit to success.

    Each sample is the midpoint between the last poll that saw the task unfinished and
    the one that saw it done: the end lies between them, and the late side would
    otherwise make every estimate, and so every first poll, drift later.
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
