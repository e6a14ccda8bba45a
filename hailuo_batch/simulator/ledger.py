"""The ledger: what the simulator received and did, counted per provider. No I/O.

It backs `GET /_sim/stats`, which lets a test prove that no video was paid for twice.
Submitted bodies are kept only as sha256 digests (to spot duplicates); API keys never
reach the ledger. Counters start from zero in each simulator instance; with a state file,
the digests of bodies accepted by earlier instances are remembered, so resubmitting one
still counts in `duplicate_submits`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Literal, get_args

import orjson

from hailuo_batch.simulator.config import FaultKind

Count = Literal[
    "submitted",  # accepted submits: tasks created (and paid for)
    "duplicate_submits",  # accepted submits whose path and JSON body equal an earlier one
    "refused",  # submits refused (bad key, bad params, outage)
    "polls",
    "retrieves",  # MiniMax files/retrieve
    "lists",  # task/request/model listings
    "downloads",  # video bodies served
    "expired_links",  # downloads refused because the link was past its expiry
    "faults_injected",
    "lost_replies",  # submits that took effect but whose answer was dropped
]
COUNTS: tuple[Count, ...] = get_args(Count)


class Ledger:
    """Counters per provider plus the digests of accepted submit bodies."""

    __slots__ = ("_counts", "_digests", "_faults")

    def __init__(self, providers: Iterable[str]) -> None:
        self._counts: dict[str, Counter[Count]] = {name: Counter() for name in providers}
        self._faults: dict[str, Counter[FaultKind]] = {name: Counter() for name in self._counts}
        self._digests: dict[str, set[str]] = {name: set() for name in self._counts}

    def __repr__(self) -> str:
        totals = {count: self.total(count) for count in ("submitted", "polls", "downloads")}
        return f"<Ledger {totals}>"

    def count(self, provider: str, what: Count) -> None:
        self._counts[provider][what] += 1

    def total(self, what: Count) -> int:
        return sum(counts[what] for counts in self._counts.values())

    def record_submit(self, provider: str, path: str, body: Mapping[str, object]) -> str:
        """Count an accepted submit, and a duplicate if the same body reached the same path.

        Returns the submit's digest, for `remember_submit` in a later instance.
        """
        canonical = orjson.dumps({"path": path, "body": body}, option=orjson.OPT_SORT_KEYS)
        digest = hashlib.sha256(canonical).hexdigest()
        self.count(provider, "submitted")
        if digest in self._digests[provider]:
            self.count(provider, "duplicate_submits")
        self._digests[provider].add(digest)
        return digest

    def remember_submit(self, provider: str, digest: str) -> None:
        """Know a submit an earlier instance accepted, without counting it here."""
        self._digests[provider].add(digest)

    def record_fault(self, provider: str, kind: FaultKind) -> None:
        self.count(provider, "faults_injected")
        self._faults[provider][kind] += 1

    def snapshot(self) -> dict[str, object]:
        """The JSON answered by `/_sim/stats`: totals, then the same counters per provider."""
        by_provider = {name: self._provider_snapshot(name) for name in self._counts}
        faults: Counter[FaultKind] = Counter()
        for per_provider in self._faults.values():
            faults.update(per_provider)
        totals: dict[str, object] = {count: self.total(count) for count in COUNTS}
        return {**totals, "faults_by_kind": dict(faults), "by_provider": by_provider}

    def _provider_snapshot(self, provider: str) -> dict[str, object]:
        counts = self._counts[provider]
        snapshot: dict[str, object] = {count: counts[count] for count in COUNTS}
        snapshot["faults_by_kind"] = dict(self._faults[provider])
        return snapshot
