"""What a person sees while a run goes: a live rich display on a terminal, plain lines
elsewhere (cron, CI, pipes), nothing but the summary with `--quiet`. Writes to stderr.

It only reads events and records; it never decides anything. Times are in seconds.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from hailuo_batch.core import events as ev
from hailuo_batch.store.fold import JobRecord

if TYPE_CHECKING:
    from rich.live import Live
    from rich.table import Table


class Progress:
    """Counts jobs by state from the event stream and shows them."""

    def __init__(self, total: int, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.quiet = quiet
        self.states: dict[str, str] = {}
        self.started = time.monotonic()
        self.spend = 0.0
        self.down: dict[str, str] = {}
        self._live: Live | None = None
        if not quiet and self.stream.isatty():
            from rich.console import Console
            from rich.live import Live

            self._live = Live(
                console=Console(file=self.stream), refresh_per_second=4, transient=False
            )

    def __enter__(self) -> Progress:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.stop()

    def seed(self, records: Iterable[JobRecord]) -> None:
        """Start from where the folder stands, so a resumed run counts earlier work."""
        for record in records:
            self.states[record.key] = record.state

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
        self.states[record.key] = record.state
        if isinstance(event, ev.Accepted) and event.cost_usd:
            self.spend += event.cost_usd
        if self._live is not None:
            self._live.update(self._render())
        elif not self.quiet:
            line = _line(event, record)
            if line:
                self._write(line)

    def _say(self, text: str) -> None:
        """A line that matters whatever the display: providers going out of service."""
        if self._live is not None:
            self._live.console.print(text)
        elif not self.quiet:
            self._write(text)

    def _write(self, text: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.stream.write(f"{stamp} {text}\n")
        self.stream.flush()

    def counts(self) -> Counter[str]:
        return Counter(self.states.values())

    def _render(self) -> Table:
        from rich.table import Table

        counts = self.counts()
        done = counts.get("done", 0)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed * 60
        left = self.total - done - counts.get("failed", 0)
        eta = f"{left / (done / elapsed) / 60:.1f} min" if done else "?"
        table = Table(title="hailuo-batch", show_header=True, expand=False)
        names = ("pending", "submitting", "queued", "running", "downloading", "done", "failed")
        for name in (*names, "total"):
            table.add_column(name, justify="right")
        table.add_row(
            str(counts.get("pending", 0)),
            str(
                counts.get("submitting", 0) + counts.get("unknown", 0) + counts.get("submitted", 0)
            ),
            str(counts.get("queued", 0)),
            str(counts.get("running", 0)),
            str(counts.get("downloading", 0)),
            str(done),
            str(counts.get("failed", 0)),
            str(self.total),
        )
        caption = f"{rate:.1f} videos/min · ETA {eta} · spend this run ${self.spend:.2f}"
        if self.down:
            caption += " · out of service: " + ", ".join(sorted(self.down))
        table.caption = f"{caption} · {elapsed:.0f} s"
        return table


def size_text(count: int) -> str:
    """Bytes as people read them: 512 B, 310 kB, 4.2 MB."""
    if count < 1000:
        return f"{count} B"
    if count < 1_000_000:
        return f"{count / 1000:.0f} kB"
    return f"{count / 1e6:.1f} MB"


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
