"""What a run shows while it goes, as a role: the CLI's live table or plain lines, or
nothing (the library's default). No I/O of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol

from hailuo_batch.core.events import Event
from hailuo_batch.store.fold import JobRecord


@dataclass(frozen=True, slots=True)
class RunView:
    """What a display needs to know of a run before it starts."""

    total: int  # jobs in the manifest
    slots: Mapping[str, int] = field(default_factory=dict)  # tasks in flight, per provider
    budget_usd: float | None = None


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

    def notice(self, text: str) -> None:
        """Something the user should know now (work about to be redone, a provider to top up)."""
        ...


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

    def notice(self, text: str) -> None:
        return None
