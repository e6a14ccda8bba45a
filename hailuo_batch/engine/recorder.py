"""The recorder: every state change of a run goes through it, in one order. Writes the journal.

`emit` stamps an event with the time, appends it to the journal, folds it into the run
state and tells the listeners (the display, the live report, the library's `on_event`),
in that order, so nothing is shown or acted on before it is written. `emit_durable`
also waits until the event is on disk: for events that record money or a task id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from hailuo_batch.core.clock import Clock
from hailuo_batch.core.events import Event, JobEvent
from hailuo_batch.store.fold import JobRecord, RunState
from hailuo_batch.store.journal import Journal

Listener = Callable[[Event, JobRecord | None], None]


class Recorder:
    """Journal, fold and listeners of one run."""

    def __init__(
        self,
        journal: Journal,
        state: RunState,
        clock: Clock,
        listeners: list[Listener],
        on_low_space: Callable[[], None] = lambda: None,
    ) -> None:
        self.journal = journal
        self.state = state
        self.clock = clock
        self.listeners = listeners
        self._on_low_space = on_low_space

    def emit(self, event: Event) -> JobRecord | None:
        """Journal one event, fold it in, tell the listeners; the job's record, if any."""
        event = dataclasses.replace(event, t=round(self.clock.time(), 3))
        self.journal.append(event)
        self.state.apply(event)
        record = self.state.jobs.get(event.key) if isinstance(event, JobEvent) else None
        for listener in self.listeners:
            listener(event, record)
        if self.journal.out_of_space:
            self._on_low_space()
        return record

    async def emit_durable(self, event: Event) -> None:
        """Journal an event that records money or a task id, and wait until it is on disk."""
        self.emit(event)
        await self.journal.commit()

    async def commit(self) -> None:
        await self.journal.commit()

    def record(self, key: str) -> JobRecord:
        return self.state.record(key)
