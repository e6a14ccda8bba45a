"""The output folder as a data set: videos/metadata.jsonl loads with Hugging Face
`datasets` as it is, and results.parquet holds the same rows as results.jsonl."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from hailuo_batch.core import events as ev
from hailuo_batch.outputs.live import LiveReport
from hailuo_batch.outputs.metadata import (
    representatives_first,
    split_word_files,
    uniform_labels,
    write_metadata,
)
from hailuo_batch.outputs.parquet import COLUMNS, flat_row
from hailuo_batch.outputs.results import result_row
from hailuo_batch.store.fold import JobRecord, RunState
from hailuo_batch.store.lockfile import ManifestInfo, lock_document, read_lock
from tests.helpers.cli import ROOT, run_line


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def hf_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`datasets` caches under tmp_path and never asks the Hub for anything."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def load_videofolder(videos: Path, **options: Any) -> Any:
    """`load_dataset("videofolder", data_dir=...)`'s train split, its video column not
    decoded: decoding needs torchcodec (and torch), which this suite does not install."""
    import datasets

    loaded = datasets.load_dataset(
        "videofolder", data_dir=str(videos), split="train", cache_dir=str(videos.parent / "hf"),
        **options,
    )  # fmt: skip
    return loaded.cast_column("video", datasets.Video(decode=False))


def run_quickstart(tmp_path: Path, out: Path | None = None) -> Path:
    """The quickstart, copied to tmp_path (so it can be edited), run with --simulate."""
    if not (tmp_path / "pipelines").exists():
        shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
        shutil.copytree(ROOT / "samples", tmp_path / "samples")
    out = out or tmp_path / "out"
    manifest = tmp_path / "pipelines" / "quickstart.yaml"
    result = run_line(
        "run", str(manifest), "--simulate", "--out", str(out), "--quiet", "--gen-seconds", "0.2"
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.usefixtures("hf_offline")
def test_the_quickstart_loads_with_datasets_videofolder_as_it_is(tmp_path: Path) -> None:
    """A superseded video (its prompt edited) stays on disk without a row: it is not loaded."""
    run_quickstart(tmp_path)
    manifest = tmp_path / "pipelines" / "quickstart.yaml"
    manifest.write_text(manifest.read_text().replace("A red fox trots", "A grey fox trots"))
    out = run_quickstart(tmp_path)
    assert len(list((out / "videos").glob("fox~*.mp4"))) == 1
    loaded = load_videofolder(out / "videos")
    lock = read_lock(out)
    assert lock is not None
    done = {job.id: job for job in lock.current() if job.state == "done"}
    assert sorted(loaded["id"]) == sorted(done) == ["car", "fox", "koi"]
    for row in loaded:
        job = done[row["id"]]
        assert row["request"]["prompt"] == job.request["prompt"] and row["sha256"] == job.sha256
        video = Path(row["video"]["path"])
        assert video == (out / str(job.path)).resolve()
        assert hashlib.sha256(video.read_bytes()).hexdigest() == row["sha256"]
    fox = next(row for row in loaded if row["id"] == "fox")
    assert fox["request"]["prompt"].startswith("A grey fox")
    car = next(row for row in loaded if row["id"] == "car")
    assert car["request"]["image"]["source"] == "../samples/images/car.jpg"


def test_a_folder_made_before_metadata_jsonl_gets_it_on_the_next_run(tmp_path: Path) -> None:
    out = run_quickstart(tmp_path)
    metadata = out / "videos" / "metadata.jsonl"
    metadata.unlink()
    run_quickstart(tmp_path)
    assert [line["file_name"] for line in lines(metadata)] == ["car.mp4", "fox.mp4", "koi.mp4"]


@pytest.mark.usefixtures("hf_offline")
def test_the_readme_lines_load_the_quickstart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Load as a data set") : text.index("### results.parquet")]
    code = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    assert len(code.splitlines()) == 2
    run_quickstart(tmp_path, tmp_path / "out" / "quickstart")
    monkeypatch.chdir(tmp_path)
    scope: dict[str, Any] = {}
    exec(compile(code, "README.md: Load as a data set", "exec"), scope)
    videos = scope["videos"]
    assert sorted(videos["id"]) == ["car", "fox", "koi"]  # the video column is not decoded
    assert all(request["prompt"] for request in videos["request"])


@pytest.mark.usefixtures("hf_offline")
def test_labels_of_mixed_types_and_late_columns_still_load(tmp_path: Path) -> None:
    """pyarrow refuses a column that changes type; datasets types columns from the first
    lines: a label given as a number and as text, and an end frame only the last video
    has, both load."""
    rows = []
    for index, mood in enumerate(["calm", 3, None, True]):
        record = JobRecord(
            f"k{index}", id=f"v{index}", state="done", path=f"videos/v{index}.mp4", sha256="0"
        )
        record.request = {"prompt": f"p{index}", "image": None, "end_image": None}
        record.meta = {"mood": mood, "tags": ["a", "b"]} if mood is not None else {}
        record.unpriced = 1  # cost_usd null
        if index == 3:
            record.request["end_image"] = {"source": "end.png", "sha256": "e"}
            record.warnings = ["duration is 5.00 s, but 6 s was asked"]
            record.cost_usd, record.unpriced = 0.27, 0
        rows.append(result_row(record, ManifestInfo(name="m"), "1"))
        (tmp_path / "videos").mkdir(exist_ok=True)
        shutil.copy(ROOT / "tests" / "data" / "tiny.mp4", tmp_path / "videos" / f"v{index}.mp4")
    write_metadata(tmp_path, rows)
    loaded = {row["id"]: row for row in load_videofolder(tmp_path / "videos")}
    assert [loaded[f"v{i}"]["meta"]["mood"] for i in range(4)] == ["calm", "3", None, "true"]
    assert loaded["v0"]["meta"]["tags"] == '["a","b"]'
    assert loaded["v3"]["request"]["end_image"] == {"source": "end.png", "sha256": "e"}
    assert loaded["v3"]["cost_usd"] == 0.27 and loaded["v0"]["cost_usd"] is None


@pytest.mark.slow
@pytest.mark.usefixtures("hf_offline")
def test_a_column_that_gets_a_value_past_the_first_10_mb_still_loads(tmp_path: Path) -> None:
    """datasets types columns from the file's first 10 MB: in results order, the end frame
    and warnings of the last videos would come too late and fail the whole load."""
    (tmp_path / "videos").mkdir()
    shutil.copy(ROOT / "tests" / "data" / "tiny.mp4", tmp_path / "videos" / "v.mp4")
    rows = []
    for index in range(9000):
        record = JobRecord(f"k{index}", id=f"v{index:05}", state="done", path="videos/v.mp4")
        record.request = {"prompt": "p" * 1200, "image": None, "end_image": None}
        if index >= 8990:
            record.request["end_image"] = {"source": "end.png", "sha256": "e"}
            record.warnings = ["late"]
        rows.append(result_row(record, ManifestInfo(name="m"), "1"))
    assert (write_metadata(tmp_path, rows)).stat().st_size > 11 << 20
    loaded = load_videofolder(tmp_path / "videos")
    assert len(loaded) == 9000
    last = loaded.filter(lambda row: row["id"] == "v08999")[0]
    assert last["request"]["end_image"]["source"] == "end.png" and last["warnings"] == ["late"]


def test_the_lines_that_first_show_a_column_come_first() -> None:
    plain = {"id": "a", "request": {"end_image": None}, "warnings": [], "meta": {}}
    rows = [
        plain,
        {**plain, "id": "b"},
        {**plain, "id": "c", "warnings": ["short"]},
        {**plain, "id": "d", "request": {"end_image": {"source": "e.png"}}},
        {**plain, "id": "e", "warnings": ["long"]},
    ]
    assert [row["id"] for row in representatives_first(rows)] == ["a", "c", "d", "b", "e"]


def test_labels_of_one_type_are_left_as_they_are() -> None:
    rows: list[dict[str, Any]] = [
        {"meta": {"n": 1, "s": "x"}},
        {"meta": {"n": 2.5, "s": None}},
        {"meta": {}},
    ]
    assert uniform_labels(rows) == rows


@pytest.mark.parametrize(
    ("name", "taken"),
    [
        ("test-fox.mp4", True),
        ("fox_val.mp4", True),
        ("dev.mp4", True),
        ("koi.eval.2.mp4", True),
        ("contest.mp4", False),
        ("latest-news.mp4", False),
        ("fox~0123abcd4567.mp4", False),
    ],
)
def test_split_words_are_found_as_datasets_finds_them(name: str, taken: bool) -> None:
    assert split_word_files([name]) == ([name] if taken else [])


@pytest.mark.usefixtures("hf_offline")
def test_a_video_named_like_a_split_is_reported_with_the_way_to_load_it(tmp_path: Path) -> None:
    """`data_dir=` alone would load test-fox.mp4 alone, as a "test" split; the note's
    `data_files="*"` loads every row."""
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    manifest = tmp_path / "pipelines" / "quickstart.yaml"
    manifest.write_text(manifest.read_text().replace("id: fox", "id: test-fox"))
    out = run_quickstart(tmp_path)
    result = run_line("report", str(out))
    assert result.exit_code == 0
    assert "note: `datasets` takes test-fox.mp4 for a split" in result.output
    assert 'data_files="*"' in result.output
    loaded = load_videofolder(out / "videos", data_files="*")
    assert sorted(loaded["id"]) == ["car", "koi", "test-fox"]


def test_metadata_lines_are_appended_as_videos_finish_and_rewritten_complete(
    tmp_path: Path,
) -> None:
    state = RunState()
    manifest = ManifestInfo("m.yaml", "abc", "m")
    for key, job_id in (("k2", "b"), ("k1", "a")):
        state.apply(ev.JobDeclared(key=key, id=job_id, request={"prompt": job_id}))
    live = LiveReport(tmp_path, lock_document(state, None, manifest))
    metadata = tmp_path / "videos" / "metadata.jsonl"
    assert metadata.read_bytes() == b""
    for key, job_id in (("k2", "b"), ("k1", "a")):
        event = ev.Done(key=key, path=f"videos/{job_id}.mp4", sha256="0" * 64, bytes=1, t=1.0)
        state.apply(event)
        live.on_event(event, state.jobs[key])
        assert lines(metadata)[-1]["file_name"] == f"{job_id}.mp4"  # streamed at once
    live.checkpoint(lock_document(state, None, manifest))
    live.finish()
    written = lines(metadata)
    assert [line["id"] for line in written] == ["a", "b"]
    results = lines(tmp_path / "results.jsonl")
    assert [{k: v for k, v in line.items() if k != "file_name"} for line in written] == results


def _flat_results(out: Path) -> list[dict[str, Any]]:
    return [flat_row(row) for row in lines(out / "results.jsonl")]


def test_parquet_holds_the_rows_of_results_jsonl(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = run_quickstart(tmp_path)
    result = run_line("report", str(out), "--format", "parquet")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {out / 'results.parquet'}"
    table = pq.read_table(out / "results.parquet")
    assert table.column_names == list(COLUMNS)
    assert str(table.schema.field("request.duration").type) == "int64"
    assert str(table.schema.field("warnings").type) == "list<element: string>"
    expected = _flat_results(out)
    for got, want in zip(table.to_pylist(), expected, strict=True):
        assert got == {name: want.get(name) for name in COLUMNS}
    car = next(row for row in table.to_pylist() if row["id"] == "car")
    assert car["request.image.source"] == "../samples/images/car.jpg"


def test_parquet_reads_into_pandas_with_labels_as_columns(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    manifest = tmp_path / "pipelines" / "quickstart.yaml"
    text = manifest.read_text()
    manifest.write_text(
        text.replace(
            '  - id: koi\n    prompt: "',
            '  - matrix: {take: [1, 2]}\n    id: koi-{take}\n    prompt: "Take {take}: ',
        )
    )
    out = run_quickstart(tmp_path)
    assert run_line("report", str(out), "--format", "parquet").exit_code == 0
    frame = pandas.read_parquet(out / "results.parquet")
    assert list(frame["id"]) == [row["id"] for row in lines(out / "results.jsonl")]
    at = list(frame.columns).index("request.sample") + 1
    assert list(frame.columns)[at] == "meta.take"
    takes = dict(zip(frame["id"], frame["meta.take"], strict=True))
    assert takes["koi-1"] == 1 and takes["koi-2"] == 2 and pandas.isna(takes["fox"])


def test_parquet_without_pyarrow_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = run_quickstart(tmp_path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # what `import pyarrow` meets unset
    result = run_line("report", str(out), "--format", "parquet")
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: results.parquet needs pyarrow, which is not installed: "
        "pip install 'hailuo-batch[parquet]' (or pip install pyarrow)"
    )
    assert not (out / "results.parquet").exists()
