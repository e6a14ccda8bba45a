"""The journal and its fold: torn tails ignored, folding is deterministic, the lock is stable."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from hailuo_batch.core.layout import JOURNAL
from hailuo_batch.store.fold import fold, load_state, read_events
from hailuo_batch.store.journal import Journal
from hailuo_batch.store.lockfile import lock_document

KEYS = ["k1", "k2", "k3"]
events = st.lists(
    st.one_of(
        st.builds(
            lambda k, i: {
                "ev": "job",
                "key": k,
                "id": i,
                "sample": 0,
                "request": {},
                "source": {"file": "m.yaml", "line": 3},
            },
            st.sampled_from(KEYS),
            st.text(min_size=1, max_size=5),
        ),
        st.builds(
            lambda k, p: {"ev": "submitting", "key": k, "provider": p},
            st.sampled_from(KEYS),
            st.sampled_from(["novita", "gmi"]),
        ),
        st.builds(
            lambda k, t, c: {"ev": "submitted", "key": k, "task_id": t, "cost_usd": c},
            st.sampled_from(KEYS),
            st.text(min_size=1, max_size=8),
            st.sampled_from([0.0, 0.28, 0.56]),
        ),
        st.builds(
            lambda k, s: {"ev": "progress", "key": k, "state": s, "t": 5.0},
            st.sampled_from(KEYS),
            st.sampled_from(["queued", "running"]),
        ),
        st.builds(
            lambda k: {"ev": "unknown", "key": k, "message": "timeout"}, st.sampled_from(KEYS)
        ),
        st.builds(
            lambda k, d: {"ev": "resubmit", "key": k, "possible_duplicate": d},
            st.sampled_from(KEYS),
            st.booleans(),
        ),
        st.builds(
            lambda k: {
                "ev": "done",
                "key": k,
                "path": f"videos/{k}.mp4",
                "sha256": "ab",
                "bytes": 3,
                "mtime_ns": 1,
                "media": {},
            },
            st.sampled_from(KEYS),
        ),
        st.builds(
            lambda k: {"ev": "failed", "key": k, "kind": "provider_error", "message": "x"},
            st.sampled_from(KEYS),
        ),
    ),
    max_size=40,
)


@given(events)
def test_folding_the_same_journal_twice_gives_the_same_lockfile(
    evs: list[dict[str, object]],
) -> None:
    first = lock_document(fold(evs), None, {"name": "m"})
    second = lock_document(fold(evs), None, {"name": "m"})
    assert first == second


@given(events)
def test_spend_is_the_sum_of_accepted_submits(evs: list[dict[str, object]]) -> None:
    paid = sum(float(e["cost_usd"]) for e in evs if e["ev"] == "submitted")  # type: ignore[arg-type]
    assert fold(evs).spend_usd == round(paid, 6)


def test_a_torn_last_line_is_ignored_and_cut_before_the_next_append(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append({"ev": "submitting", "key": "k1", "provider": "novita"})
    journal.append({"ev": "submitted", "key": "k1", "task_id": "T1"})
    journal.close()
    with (tmp_path / JOURNAL).open("ab") as handle:
        handle.write(b'{"ev": "done", "key": "k1", "pa')  # power cut mid-line
    assert load_state(tmp_path).jobs["k1"].task_id == "T1"
    journal = Journal(tmp_path)
    journal.append({"ev": "progress", "key": "k1", "state": "running"})
    journal.close()
    lines = (tmp_path / JOURNAL).read_bytes().splitlines()
    assert len(lines) == 3
    assert load_state(tmp_path).jobs["k1"].state == "running"


def test_every_prefix_of_a_journal_folds_to_a_consistent_state(tmp_path: Path) -> None:
    """A kill at any byte leaves a journal whose fold never forgets an acknowledged task id."""
    journal = Journal(tmp_path)
    journal.append({"ev": "submitting", "key": "k1", "provider": "novita"})
    journal.append({"ev": "submitted", "key": "k1", "task_id": "T1"})
    journal.append({"ev": "progress", "key": "k1", "state": "running"})
    journal.close()
    data = (tmp_path / JOURNAL).read_bytes()
    acknowledged = data.index(b"T1") + data[data.index(b"T1") :].index(b"\n") + 1
    for cut in [*random.Random(1).sample(range(len(data) + 1), 40), acknowledged]:
        (tmp_path / JOURNAL).write_bytes(data[:cut])
        state = fold(read_events(tmp_path / JOURNAL))
        if cut >= acknowledged:
            assert state.jobs["k1"].task_id == "T1"


def test_lock_marks_jobs_that_left_the_manifest() -> None:
    state = fold(
        [{"ev": "job", "key": k, "id": k, "sample": 0, "request": {}, "source": {}} for k in KEYS]
    )
    doc = lock_document(state, frozenset({"k1"}), {})
    assert [doc["jobs"][k]["in_manifest"] for k in KEYS] == [True, False, False]
