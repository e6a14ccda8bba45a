"""`RunSummary`: what a run achieved, and the one place a run's outcome becomes an exit code.
No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hailuo_batch.store.fold import OutOfService, Spend


@dataclass(frozen=True, slots=True)
class Failure:
    """A job that ended failed, and why."""

    id: str
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What one run (or resume) left the folder with.

    `exit_code`: 0 every job done, 1 finished with failures, 3 stopped early (state
    saved; run again to resume). Bad input never gets this far: it raises (exit 2).
    """

    total: int
    by_state: dict[str, int]
    spend: Spend
    failures: list[Failure] = field(default_factory=list)
    stopped: str | None = None
    possible_duplicates: int = 0
    simulated: int = 0  # jobs whose video is the simulator's
    out_of_service: list[OutOfService] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # what the user should know
    crash: str | None = None  # the traceback of an internal error, for --debug

    @property
    def done(self) -> int:
        return self.by_state.get("done", 0)

    @property
    def exit_code(self) -> int:
        if self.stopped:
            return 3
        return 0 if self.done == self.total else 1

    def to_json(self) -> dict[str, object]:
        return {
            "total": self.total,
            "by_state": dict(sorted(self.by_state.items())),
            "spend": self.spend.to_json(),
            "spend_usd": self.spend.known_usd,
            "spend_text": str(self.spend),
            "failures": [{"id": f.id, "kind": f.kind, "message": f.message} for f in self.failures],
            "stopped": self.stopped,
            "possible_duplicates": self.possible_duplicates,
            "simulated": self.simulated,
            "out_of_service": [o.to_json() for o in self.out_of_service],
            "notices": self.notices,
            "exit_code": self.exit_code,
        }
