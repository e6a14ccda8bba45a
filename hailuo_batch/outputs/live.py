"""The outputs of a run in progress: results lines as videos finish, the gallery at
checkpoints. Writes files.

During a run, `LiveReport` keeps the derived files current: a results line is appended
the moment a video is done (never held back in memory), the gallery is rewritten at
checkpoints so a long run can be watched, and at the end both are rewritten complete,
sorted by job id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hailuo_batch.core.events import Done, Event
from hailuo_batch.outputs.report import write_html
from hailuo_batch.outputs.results import append_result, result_row, write_results
from hailuo_batch.store.fold import JobRecord
from hailuo_batch.store.lockfile import LockDocument


class LiveReport:
    """A run's outputs as it goes: results lines as videos finish, the gallery at checkpoints.

    `on_event` is an engine listener; `checkpoint(document)` is called with each new
    lockfile document, `finish()` once at the end, after the last checkpoint. Checkpoints
    run on the event loop, so the gallery is rewritten only once it has been stale for
    `STALE_FACTOR` times as long as its last rewrite took: its cost stays a tenth of
    the run at most (10k jobs take about 0.3 s to render), however large the batch.
    """

    STALE_FACTOR = 10

    def __init__(
        self,
        folder: Path,
        document: Mapping[str, Any],
        clock: Callable[[], float] = time.monotonic,
        *,
        up_to_date: bool = False,
    ) -> None:
        self.folder = folder
        self._document = document
        # a re-run that changes nothing rewrites nothing: 0.8 s saved on 10k finished jobs
        self._unchanged_from = document if up_to_date else None
        self._lock = LockDocument.from_json(document)
        self._clock = clock
        # the document report.html shows
        self._rendered: Mapping[str, Any] | None = document if up_to_date else None
        self._due = clock()
        if not up_to_date:
            write_results(folder, self._lock)  # from here on, lines are only appended

    def on_event(self, event: Event, record: JobRecord | None) -> None:
        if not isinstance(event, Done) or record is None:
            return
        append_result(self.folder, result_row(record, self._lock.manifest, self._lock.tool_version))

    def checkpoint(self, document: Mapping[str, Any]) -> None:
        self._document = document
        if self._clock() >= self._due and document != self._rendered:
            self._render()

    def finish(self) -> None:
        if self._unchanged_from is not None and self._document == self._unchanged_from:
            return
        if self._rendered is not self._document:
            self._render()
        write_results(self.folder, LockDocument.from_json(self._document))

    def _render(self) -> None:
        started = self._clock()
        write_html(self.folder, LockDocument.from_json(self._document))
        self._rendered = self._document
        finished = self._clock()
        self._due = finished + (finished - started) * self.STALE_FACTOR
