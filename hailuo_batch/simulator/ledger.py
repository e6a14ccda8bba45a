"""The ledger: what the simulator received and did, counted per provider. No I/O.

It backs `GET /_sim/stats`, which lets a test prove that no video was paid for twice.
Counters start from zero in each simulator instance. Submitted bodies are kept only as
sha256 digests of `(path, body)`, with the ids of the tasks they created; API keys never
reach the ledger.

`duplicate_submits` counts accepted tasks that were paid for and never used: what a lost
reply followed by a blind resubmit leaves behind. An identical body alone proves nothing,
since two samples of one request send identical bodies on purpose; what gives a
duplicate away is that the client never asked about it (never polled, retrieved or
downloaded it). It is computed when the snapshot is taken. For each group of `k`
accepted tasks with equal `(path, body)`, of which `u` were never asked about and `h`
were accepted by this instance:

    duplicates(group) = min(u, k - 1, h)

`k - 1`: one task of a group is the one the client meant to make, even if it never used
it (a client killed after submitting). `h`: a group counts only in an instance that
accepted some of it, and at most that many, so the figure never exceeds `submitted`;
with a state file, a repeat of a body an earlier instance accepted still counts. Taken
mid-run, it also counts tasks the client has simply not polled yet: read it once the
run is over.

`identical_submits`, for information, counts accepted submits whose `(path, body)`
equals one accepted before (by this instance or, with a state file, an earlier one):
samples and deliberate retries of a failed task included.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

import orjson

from hailuo_batch.simulator.config import FaultKind

Count = Literal[
    "submitted",  # accepted submits: tasks created (and paid for)
    "identical_submits",  # accepted submits whose path and JSON body equal an earlier one
    "refused",  # submits refused (bad key, bad params, outage)
    "polls",
    "retrieves",  # MiniMax files/retrieve
    "lists",  # request/model listings
    "cancels",  # Replicate prediction cancels
    "downloads",  # video bodies served
    "expired_links",  # downloads refused because the link was past its expiry
    "faults_injected",
    "lost_replies",  # submits that took effect but whose answer was dropped
]
COUNTS: tuple[Count, ...] = get_args(Count)


@dataclass(frozen=True, slots=True)
class _Accepted:
    task_id: str
    here: bool  # accepted by this instance (not restored from a state file)


class Ledger:
    """Counters per provider, the accepted tasks by submit digest, and the tasks asked about."""

    __slots__ = ("_asked", "_counts", "_faults", "_submits")

    def __init__(self, providers: Iterable[str]) -> None:
        self._counts: dict[str, Counter[Count]] = {name: Counter() for name in providers}
        self._faults: dict[str, Counter[FaultKind]] = {name: Counter() for name in self._counts}
        self._submits: dict[str, dict[str, list[_Accepted]]] = {n: {} for n in self._counts}
        self._asked: dict[str, set[str]] = {name: set() for name in self._counts}

    def __repr__(self) -> str:
        totals = {count: self.total(count) for count in ("submitted", "polls", "downloads")}
        return f"<Ledger {totals}>"

    def count(self, provider: str, what: Count) -> None:
        self._counts[provider][what] += 1

    def total(self, what: Count) -> int:
        return sum(counts[what] for counts in self._counts.values())

    def record_submit(
        self, provider: str, path: str, body: Mapping[str, object], task_id: str
    ) -> str:
        """Count an accepted submit (and an identical one if the same body reached the path).

        Returns the submit's digest, for `remember_submit` in a later instance.
        """
        canonical = orjson.dumps({"path": path, "body": body}, option=orjson.OPT_SORT_KEYS)
        digest = hashlib.sha256(canonical).hexdigest()
        self.count(provider, "submitted")
        group = self._submits[provider].setdefault(digest, [])
        if group:
            self.count(provider, "identical_submits")
        group.append(_Accepted(task_id, here=True))
        return digest

    def remember_submit(self, provider: str, digest: str, task_id: str) -> None:
        """Know a submit an earlier instance accepted, without counting it here."""
        self._submits[provider].setdefault(digest, []).append(_Accepted(task_id, here=False))

    def mark_asked(self, provider: str, task_id: str) -> bool:
        """The client asked about a task (poll, retrieve, download); True the first time."""
        asked = self._asked[provider]
        if task_id in asked:
            return False
        asked.add(task_id)
        return True

    def duplicates(self, provider: str) -> int:
        """`duplicate_submits` as the module docstring defines it, computed now."""
        asked = self._asked[provider]
        found = 0
        for group in self._submits[provider].values():
            if len(group) < 2:
                continue
            here = sum(1 for task in group if task.here)
            unused = sum(1 for task in group if task.task_id not in asked)
            found += min(unused, len(group) - 1, here)
        return found

    def record_fault(self, provider: str, kind: FaultKind) -> None:
        self.count(provider, "faults_injected")
        self._faults[provider][kind] += 1

    def snapshot(self) -> dict[str, object]:
        """The JSON answered by `/_sim/stats`: totals, then the same counters per provider."""
        duplicates = {name: self.duplicates(name) for name in self._counts}
        by_provider = {
            name: self._provider_snapshot(name, duplicates[name]) for name in self._counts
        }
        faults: Counter[FaultKind] = Counter()
        for per_provider in self._faults.values():
            faults.update(per_provider)
        totals: dict[str, object] = {count: self.total(count) for count in COUNTS}
        totals["duplicate_submits"] = sum(duplicates.values())
        return {**totals, "faults_by_kind": dict(faults), "by_provider": by_provider}

    def _provider_snapshot(self, provider: str, duplicates: int) -> dict[str, object]:
        counts = self._counts[provider]
        snapshot: dict[str, object] = {count: counts[count] for count in COUNTS}
        snapshot["duplicate_submits"] = duplicates
        snapshot["faults_by_kind"] = dict(self._faults[provider])
        return snapshot
