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

from hailuo_batch.store.fold import Event, JobRecord

if TYPE_CHECKING:
    from rich.live import Live
    from rich.table import Table

_LINE_EVENTS = frozenset({"submitted", "done", "failed", "unknown", "stop"})


class Progress:
    """Counts jobs by state from the event stream and shows them."""

    def __init__(self, total: int, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.quiet = quiet
        self.states: dict[str, str] = {}
        self.started = time.monotonic()
        self.spend = 0.0
        self.initial_done = 0
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

    def update(self, event: Event, record: JobRecord | None) -> None:
        if record is None:
            return
        self.states[record.key] = record.state
        if event["ev"] == "submitted":
            self.spend += float(event.get("cost_usd") or 0.0)
        if self._live is not None:
            self._live.update(self._render())
        elif not self.quiet and event["ev"] in _LINE_EVENTS:
            self.stream.write(_line(event, record) + "\n")
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
        for name in ("done", "running", "queued", "submitted", "downloading", "failed", "total"):
            table.add_column(name, justify="right")
        table.add_row(
            str(done),
            str(counts.get("running", 0)),
            str(counts.get("queued", 0)),
            str(counts.get("submitted", 0) + counts.get("submitting", 0)),
            str(counts.get("downloading", 0)),
            str(counts.get("failed", 0)),
            str(self.total),
        )
        table.caption = (
            f"{rate:.1f} videos/min · ETA {eta} · spend this run ${self.spend:.2f}"
            f" · {elapsed:.0f} s"
        )
        return table


def _line(event: Event, record: JobRecord) -> str:
    kind = event["ev"]
    if kind == "done":
        return f"done      {record.id}  {record.path}  {(record.bytes or 0) / 1e6:.1f} MB"
    if kind == "failed":
        return f"failed    {record.id}  {event['kind']}: {event['message']}"
    if kind == "submitted":
        return f"submitted {record.id}  {record.provider} task {event['task_id']}"
    if kind == "unknown":
        return f"unknown   {record.id}  {event['message']} (will reconcile)"
    return f"{kind:9} {record.id}"
