"""The journal and its fold: events round-trip, torn tails are ignored, folds are monotonic,
old journals still load, and the lock says which jobs left the manifest."""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hailuo_batch.core import events as ev
from hailuo_batch.core.layout import JOURNAL
from hailuo_batch.errors import JournalError
from hailuo_batch.store.fold import JobRecord, RunState, fold, load_state, read_events
from hailuo_batch.store.journal import Journal
from hailuo_batch.store.lockfile import LockDocument, ManifestInfo, lock_document

KEYS = ["k1", "k2", "k3"]
DATA = Path(__file__).parent / "data" / "journals"
key = st.sampled_from(KEYS)
text = st.text(max_size=12)
money = st.one_of(st.none(), st.sampled_from([0.0, 0.28, 0.56]))
t = st.floats(1.7e9, 1.8e9, allow_nan=False)

EVENTS = st.one_of(
    st.builds(ev.RunStarted, jobs=st.integers(0, 9), simulated=st.booleans(), t=t),
    st.builds(
        ev.JobDeclared,
        key=key,
        id=st.text(min_size=1, max_size=5),
        request=st.just({"prompt": "p", "model": "hailuo-02"}),
        source=st.just({"file": "m.yaml", "line": 3}),
        meta=st.dictionaries(st.sampled_from(["label", "split"]), text, max_size=2),
        t=t,
    ),
    st.builds(
        ev.SubmitIntent,
        key=key,
        provider=st.sampled_from(["novita", "gmi"]),
        simulated=st.booleans(),
        t=t,
    ),
    st.builds(ev.Accepted, key=key, task_id=st.text(min_size=1, max_size=8), cost_usd=money, t=t),
    st.builds(ev.NotSent, key=key, message=text, t=t),
    st.builds(ev.Refused, key=key, kind=st.sampled_from(["auth", "quota", "invalid_input"]), t=t),
    st.builds(ev.NoAnswer, key=key, message=text, t=t),
    st.builds(ev.Resubmit, key=key, possible_duplicate=st.booleans(), cost_usd=money, t=t),
    st.builds(ev.Progressed, key=key, state=st.sampled_from(["queued", "running"]), t=t),
    st.builds(ev.Downloading, key=key, t=t),
    st.builds(
        ev.Done,
        key=key,
        path=st.sampled_from(["videos/a.mp4", "videos/b.mp4"]),
        sha256=st.just("ab"),
        bytes=st.integers(1, 9),
        mtime_ns=st.integers(1, 9),
        media=st.just({"frames": 150}),
        t=t,
    ),
    st.builds(
        ev.Failed,
        key=key,
        kind=st.sampled_from(["provider_error", "budget"]),
        message=text,
        stage=st.sampled_from(["submit", "task", "download"]),
        t=t,
    ),
    st.builds(ev.Retry, key=key, download=st.booleans(), t=t),
    st.builds(ev.Moved, key=key, path=st.just("videos/a~k.mp4"), t=t),
    st.builds(ev.ProviderDown, provider=st.sampled_from(["novita", "gmi"]), reason=text, t=t),
    st.builds(ev.Stopped, reason=text, t=t),
)
JOURNALS = st.lists(EVENTS, max_size=40)


@settings(max_examples=60, deadline=None)
@given(JOURNALS)
def test_every_event_survives_the_journal_and_folds_the_same(events: list[ev.Event]) -> None:
    """Write, read back, fold again: the same events, the same lock."""
    with _folder() as folder:
        journal = Journal(folder)
        for event in events:
            journal.append(event)
        journal.close()
        read = list(read_events(folder / JOURNAL))
    assert read == events
    info = ManifestInfo("m.yaml", "s", "m")
    assert lock_document(fold(read), None, info) == lock_document(fold(events), None, info)


@settings(max_examples=60, deadline=None)
@given(JOURNALS)
def test_the_fold_of_each_prefix_never_forgets_money_or_attempts(events: list[ev.Event]) -> None:
    """Spend, possible duplicates and the providers tried only grow as events are added,
    until a simulated job is made for real (then nothing of the simulation is kept)."""
    state = RunState()
    before = _monotone(state)
    for event in events:
        state.apply(event)
        after = _monotone(state)
        remade = isinstance(event, ev.Retry)
        for k in KEYS:
            if not remade or k != getattr(event, "key", None):
                assert after[k] >= before[k], (event, k)
        before = after


def _monotone(state: RunState) -> dict[str, tuple[float, int, int, int]]:
    def of(rec: JobRecord | None) -> tuple[float, int, int, int]:
        if rec is None:
            return (0.0, 0, 0, 0)
        return (rec.cost_usd, rec.unpriced, rec.possible_duplicates, len(rec.providers_tried))

    return {k: of(state.jobs.get(k)) for k in KEYS}


def test_spend_counts_known_prices_and_says_how_many_are_unknown() -> None:
    state = fold(
        [
            ev.SubmitIntent(key="k1", provider="novita"),
            ev.Accepted(key="k1", task_id="a", cost_usd=0.28),
            ev.SubmitIntent(key="k2", provider="novita"),
            ev.Accepted(key="k2", task_id="b", cost_usd=None),
            ev.SubmitIntent(key="k3", provider="novita", simulated=True),
            ev.Accepted(key="k3", task_id="c", cost_usd=0.56),
        ]
    )
    spend = state.spend()
    assert (spend.known_usd, spend.unpriced) == (0.28, 1)  # the simulated one is not spend
    assert str(spend) == "at least $0.28 (1 submit(s) at an unknown price)"


def test_refused_and_never_sent_submits_cost_nothing_and_leave_the_job_pending() -> None:
    state = fold(
        [
            ev.SubmitIntent(key="k1", provider="novita"),
            ev.NotSent(key="k1", message="cannot connect"),
            ev.SubmitIntent(key="k1", provider="novita"),
            ev.Refused(key="k1", kind="auth", message="invalid api key"),
        ]
    )
    record = state.jobs["k1"]
    assert (record.state, record.attempts, record.cost_usd, record.unpriced) == ("pending", 0, 0, 0)


def test_a_torn_last_line_is_ignored_and_cut_before_the_next_append(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append(ev.SubmitIntent(key="k1", provider="novita"))
    journal.append(ev.Accepted(key="k1", task_id="T1"))
    journal.close()
    with (tmp_path / JOURNAL).open("ab") as handle:
        handle.write(b'{"ev": "done", "key": "k1", "pa')  # power cut mid-line
    assert load_state(tmp_path).jobs["k1"].task_id == "T1"
    journal = Journal(tmp_path)
    journal.append(ev.Progressed(key="k1", state="running"))
    journal.close()
    lines = (tmp_path / JOURNAL).read_bytes().splitlines()
    assert len(lines) == 3
    assert load_state(tmp_path).jobs["k1"].state == "running"


def test_damage_before_the_last_line_is_an_error_naming_the_line(tmp_path: Path) -> None:
    (tmp_path / JOURNAL).write_bytes(b'{"ev":"run","jobs":1}\nnot json\n{"ev":"run","jobs":1}\n')
    with pytest.raises(JournalError, match=r"journal.jsonl:2: not a journal event"):
        load_state(tmp_path)


def test_every_prefix_of_a_journal_folds_to_a_consistent_state(tmp_path: Path) -> None:
    """A kill at any byte leaves a journal whose fold never forgets an acknowledged task id."""
    journal = Journal(tmp_path)
    journal.append(ev.SubmitIntent(key="k1", provider="novita"))
    journal.append(ev.Accepted(key="k1", task_id="T1"))
    journal.append(ev.Progressed(key="k1", state="running"))
    journal.close()
    data = (tmp_path / JOURNAL).read_bytes()
    acknowledged = data.index(b"T1") + data[data.index(b"T1") :].index(b"\n") + 1
    for cut in [*random.Random(1).sample(range(len(data) + 1), 40), acknowledged]:
        (tmp_path / JOURNAL).write_bytes(data[:cut])
        state = fold(read_events(tmp_path / JOURNAL))
        if cut >= acknowledged:
            assert state.jobs["k1"].task_id == "T1"


@pytest.mark.parametrize("name", ["main-0.1.0-faults", "main-0.1.0-failover"])
def test_journals_written_by_0_1_0_still_load(name: str) -> None:
    """A folder made by hailuo-batch 0.1.0 resumes: its journal folds to what its lock said."""
    state = fold(read_events(DATA / f"{name}.jsonl"))
    old = orjson.loads((DATA / f"{name}.lock.json").read_bytes())
    assert set(state.jobs) == set(old["jobs"])
    for job_key, then in old["jobs"].items():
        now = state.jobs[job_key]
        for field in ("state", "provider", "task_id", "attempts", "path", "sha256", "bytes"):
            assert getattr(now, field) == then[field], (job_key, field)
        assert now.cost_usd == pytest.approx(then["cost_usd"])
        assert now.possible_duplicates == then["possible_duplicates"]
    assert state.spend_usd == pytest.approx(old["spend_usd"])


def test_lock_marks_jobs_that_left_the_manifest() -> None:
    state = fold([ev.JobDeclared(key=k, id=k) for k in KEYS])
    doc = lock_document(state, frozenset({"k1"}), ManifestInfo())
    assert [doc["jobs"][k]["in_manifest"] for k in KEYS] == [True, False, False]
    lock = LockDocument.from_json(doc)
    assert [job.key for job in lock.current()] == ["k1"]


def test_an_unknown_event_kind_is_skipped_not_fatal(tmp_path: Path) -> None:
    """A journal written by a newer version folds with what this version knows."""
    (tmp_path / JOURNAL).write_bytes(
        b'{"ev":"job","key":"k1","id":"a"}\n{"ev":"teleported","key":"k1"}\n'
    )
    assert load_state(tmp_path).jobs["k1"].id == "a"


class _folder:
    """A fresh temporary folder per hypothesis example."""

    def __enter__(self) -> Path:
        import tempfile

        self._tmp = tempfile.TemporaryDirectory()
        return Path(self._tmp.name)

    def __exit__(self, *exc: object) -> None:
        self._tmp.cleanup()
