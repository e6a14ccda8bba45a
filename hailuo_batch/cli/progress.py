"""What a person sees while a run goes. Writes to stderr.

On a terminal: a live table per provider (pending, submitting, queued, running,
downloading, done, failed), its health, spend against the budget and an ETA from the
measured task times and the free slots, redrawn by rich a few times a second. Elsewhere
(cron, CI, a pipe: a nightly log is read later): one timestamped line per event that
matters and a one-line summary every `SUMMARY_EVERY` seconds. With `--quiet`: nothing
until the run's summary. It only reads events and records; it never decides anything.
Each event costs O(1): counts move from one cell to another. Times are in seconds.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TextIO

from hailuo_batch.core import events as ev
from hailuo_batch.engine.display import RunView
from hailuo_batch.store.fold import JobRecord

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.live import Live

COLUMNS = ("pending", "submitting", "queued", "running", "downloading", "done", "failed")
_HEADER = {"submitting": "sending", "downloading": "fetching"}  # fits 80 columns
SUMMARY_EVERY = 60.0
_COLUMN_OF = {
    "pending": "pending",
    "submitting": "submitting",
    "unknown": "submitting",
    "submitted": "queued",
    "queued": "queued",
    "running": "running",
    "downloading": "downloading",
    "done": "done",
    "failed": "failed",
}


class Progress:
    """Counts jobs per provider and state from the event stream, and shows them."""

    def __init__(
        self,
        view: RunView,
        *,
        quiet: bool = False,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.view = view
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.clock = clock
        self.started = clock()
        self.cells: Counter[tuple[str, str]] = Counter()  # (provider, column) -> jobs
        self.at: dict[str, tuple[str, str]] = {}  # key -> its cell
        self.spend = 0.0
        self.down: dict[str, str] = {}
        self.failures: Counter[str] = Counter()  # provider -> failed submits or tasks
        self.finished = 0  # videos done in this run
        self.task_seconds = 0.0  # their submit-to-download times, summed
        self._summary_due = self.started + SUMMARY_EVERY
        self._live: Live | None = None
        if not quiet and self.stream.isatty():
            from rich.console import Console
            from rich.live import Live

            self._live = Live(
                console=Console(file=self.stream),
                get_renderable=self._render,
                refresh_per_second=4,
                transient=False,
            )

    def __enter__(self) -> Progress:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.stop()

    def seed(self, records: Iterable[JobRecord]) -> None:
        """Start from where the folder stands, so a resumed run counts earlier work."""
        for record in records:
            self._move(record)

    def notice(self, text: str) -> None:
        """Something to know now (`--quiet` leaves it to the summary)."""
        self._say(f"note: {text}")

    def update(self, event: ev.Event, record: JobRecord | None) -> None:
        if isinstance(event, ev.ProviderDown):
            if event.provider not in self.down:
                self._say(f"out of service: {event.reason}; its waiting jobs move on")
            self.down[event.provider] = event.reason
            return
        if isinstance(event, ev.Stopped):
            self._say(f"stopping: {event.reason}")
            return
        if record is None:
            return
        self._move(record)
        if isinstance(event, ev.Accepted) and event.cost_usd:
            self.spend += event.cost_usd
        elif isinstance(event, ev.Refused | ev.NoAnswer | ev.NotSent) and record.provider:
            self.failures[record.provider] += 1
        elif isinstance(event, ev.Done) and "submitted" in record.timings:
            self.finished += 1
            self.task_seconds += event.t - record.timings["submitted"]
        if self._live is None and not self.quiet:
            line = _line(event, record)
            if line:
                self._write(line)
            if self.clock() >= self._summary_due:
                self._summary_due = self.clock() + SUMMARY_EVERY
                self._write(self.summary())

    def _move(self, record: JobRecord) -> None:
        cell = (record.provider or "-", _COLUMN_OF.get(record.state, "pending"))
        old = self.at.get(record.key)
        if old == cell:
            return
        if old is not None:
            self.cells[old] -= 1
        self.cells[cell] += 1
        self.at[record.key] = cell

    def column(self, name: str) -> int:
        return sum(n for (_, column), n in self.cells.items() if column == name)

    def eta(self) -> float | None:
        """Seconds left: the jobs not yet done, through the slots, at the measured task time."""
        if not self.finished:
            return None
        left = self.view.total - self.column("done") - self.column("failed")
        slots = sum(self.view.slots.values()) or 1
        rounds = -(-left // slots)  # ceiling
        return rounds * self.task_seconds / self.finished

    def summary(self) -> str:
        """The one-line summary a nightly log shows every minute."""
        counts = ", ".join(f"{self.column(c)} {c}" for c in COLUMNS if self.column(c))
        eta = self.eta()
        parts = [f"{counts or 'nothing yet'} of {self.view.total}", self._spend()]
        if eta is not None:
            parts.append(f"ETA {_span(eta)}")
        if self.down:
            parts.append("out of service: " + ", ".join(sorted(self.down)))
        return "progress: " + "; ".join(parts)

    def _spend(self) -> str:
        spend = f"spend this run ${self.spend:.2f}"
        budget = self.view.budget_usd
        return f"{spend} of a ${budget:.2f} budget" if budget is not None else spend

    def _say(self, text: str) -> None:
        """A line that matters whatever the display: notes, providers going out of service."""
        if self._live is not None:
            self._live.console.print(text)
        elif not self.quiet:
            self._write(text)

    def _write(self, text: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.stream.write(f"{stamp} {text}\n")
        self.stream.flush()

    def _render(self) -> RenderableType:
        """The live table (called by rich's own refresh, a few times a second)."""
        from rich.table import Table

        table = Table(title="hailuo-batch", expand=False, caption_justify="left")
        table.add_column("provider")
        for name in COLUMNS:
            table.add_column(_HEADER.get(name, name), justify="right")
        providers = sorted({p for p, _ in self.cells} | set(self.view.slots) | set(self.down))
        health = []
        for provider in providers:
            if provider == "-" and not any(self.cells[("-", c)] for c in COLUMNS):
                continue
            table.add_row(provider, *(str(self.cells[(provider, c)]) for c in COLUMNS))
            if provider != "-":
                health.append(f"{provider}: {self._health(provider)}")
        eta = self.eta()
        elapsed = self.clock() - self.started
        rate = self.finished / elapsed * 60 if elapsed > 0 else 0.0
        table.caption = (
            f"{self.column('done')}/{self.view.total} done · {rate:.1f} videos/min · "
            f"ETA {_span(eta) if eta is not None else '?'} · {_span(elapsed)} elapsed\n"
            f"{self._spend()}\n" + " · ".join(health)
        )
        return table

    def _health(self, provider: str) -> str:
        if provider in self.down:
            return f"out of service: {self.down[provider]}"[:60]
        failed = self.failures[provider]
        return f"ok ({failed} failed submits)" if failed else "ok"


def size_text(count: int) -> str:
    """Bytes as people read them: 512 B, 310 kB, 4.2 MB."""
    if count < 1000:
        return f"{count} B"
    if count < 1_000_000:
        return f"{count / 1000:.0f} kB"
    return f"{count / 1e6:.1f} MB"


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _line(event: ev.Event, record: JobRecord) -> str | None:
    if isinstance(event, ev.Done):
        simulated = " (simulated)" if record.simulated else ""
        return f"done      {record.id}  {event.path}  {size_text(event.bytes)}{simulated}"
    if isinstance(event, ev.Failed):
        return f"failed    {record.id}  {event.kind}: {event.message}"
    if isinstance(event, ev.Accepted):
        how = " (found in its task list)" if event.reconciled else ""
        return f"submitted {record.id}  {record.provider} task {event.task_id}{how}"
    if isinstance(event, ev.NoAnswer):
        return f"unknown   {record.id}  {event.message} (will reconcile)"
    if isinstance(event, ev.Moved):
        return f"kept      {record.id}  paid video moved aside to {event.path}"
    return None
