"""Outputs people use: results.jsonl (the data-set index), results.csv, report.html, posters."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hailuo_batch.core import events as ev
from hailuo_batch.outputs import gallery
from hailuo_batch.outputs.live import LiveReport
from hailuo_batch.outputs.report import build_report
from hailuo_batch.outputs.results import result_row, write_csv
from hailuo_batch.store.fold import JobRecord, RunState
from hailuo_batch.store.lockfile import LockDocument, ManifestInfo, lock_document, read_lock
from tests.helpers.cli import ROOT, run_line, write_manifest
from tests.helpers.sim import SimThread

MP4 = Path(__file__).parent / "data" / "tiny.mp4"
HOSTILE = '<script>window.pwned=1</script><img src=x onerror="alert(1)"> & "quotes"'


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_run_leaves_results_posters_and_a_report(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest = write_manifest(tmp_path, 4)
    assert sim.run(manifest).exit_code == 0
    out = tmp_path / "out"
    rows = lines(out / "results.jsonl")
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    assert len(rows) == 4 == len(list((out / "videos").glob("*.mp4")))
    lock = read_lock(out)
    assert lock is not None
    for row in rows:
        data = (out / row["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"] and len(data) == row["bytes"]
        assert row["request"]["prompt"].startswith("scene number")
        assert row["request"]["sample"] == 0 and row["request"]["duration"] == 6
        assert row["provider"] == "novita" and row["task_id"] and row["attempts"] == 1
        assert set(row["timings"]) == {"submitted", "started", "finished", "downloaded"}
        assert row["media"]["frames"] > 0 and row["warnings"] == []
        assert row["manifest"] == {"name": "test-batch", "sha256": lock.manifest.sha256}
        assert row["tool"]["version"] == lock.tool_version
        assert row["simulated"] is False and row["meta"] == {}
        assert (out / "thumbs" / f"{row['id']}.jpg").stat().st_size > 0
    page = (out / "report.html").read_text()
    assert page.count('<video controls preload="metadata"') == 4
    assert 'poster="thumbs/' in page


def test_report_rebuilds_everything_offline_and_makes_missing_posters(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest = write_manifest(tmp_path, 2)
    assert sim.run(manifest).exit_code == 0
    out = tmp_path / "out"
    before = (out / "results.jsonl").read_bytes()
    for made in ("results.jsonl", "report.html"):
        (out / made).unlink()
    for poster in (out / "thumbs").iterdir():
        poster.unlink()
    sim.close()  # offline from here
    result = run_line("report", str(out), "--format", "html", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    assert (out / "results.jsonl").read_bytes() == before
    assert len(list((out / "thumbs").glob("*.jpg"))) == 2
    assert "scene number 1" in (out / "report.html").read_text()


def test_csv_has_one_row_per_video_with_iso_times(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    manifest = write_manifest(tmp_path, 3)
    assert sim.run(manifest).exit_code == 0
    out = tmp_path / "out"
    result = run_line("report", str(out), "--format", "csv")
    assert result.exit_code == 0
    assert result.output.strip() == f"wrote {out / 'results.csv'}"
    with (out / "results.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3
    assert rows[0]["model"] == "hailuo-02" and rows[0]["width"] == "1366"
    assert rows[0]["downloaded"].endswith("Z") and "T" in rows[0]["downloaded"]


def test_report_of_a_folder_without_a_lock_is_exit_2(tmp_path: Path) -> None:
    result = run_line("report", str(tmp_path))
    assert result.exit_code == 2
    assert "has no journal.jsonl or manifest.lock.json" in result.output


@pytest.mark.parametrize(
    "prompt",
    [
        '=HYPERLINK("http://x","y")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+9)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
    ],
    ids=["equals", "plus", "minus", "at", "tab", "carriage-return"],
)
def test_csv_cells_a_spreadsheet_would_run_are_quoted_and_numbers_stay_numbers(
    tmp_path: Path, prompt: str
) -> None:
    """OWASP's CSV injection advice: a leading single quote makes the cell text."""
    lock = _document(
        prompt,
        sha256="f" * 64,
        bytes=1234,
        media={"width": 1366, "height": 768, "fps": 25.0},
        warnings=["=1+1 looks like a formula"],
        cost_usd=-0.5,
    )
    write_csv(tmp_path, lock)
    with (tmp_path / "results.csv").open(encoding="utf-8-sig", newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert row["prompt"] == "'" + prompt
    assert row["warnings"] == "'=1+1 looks like a formula"
    assert (row["bytes"], row["width"], row["fps"]) == ("1234", "1366", "25.0")
    assert row["cost_usd"] == "-0.5"  # a number, not text: nothing for a spreadsheet to run


def test_results_lines_are_appended_as_jobs_finish_and_rewritten_complete(
    tmp_path: Path,
) -> None:
    state = RunState()
    manifest = ManifestInfo("m.yaml", "abc", "m")
    for key, job_id in (("k2", "b"), ("k1", "a")):
        state.apply(ev.JobDeclared(key=key, id=job_id, request={"prompt": job_id, "duration": 6}))
    live = LiveReport(tmp_path, lock_document(state, None, manifest))
    assert (tmp_path / "results.jsonl").read_bytes() == b""
    for key, job_id in (("k2", "b"), ("k1", "a")):
        event = ev.Done(
            key=key,
            path=f"videos/{job_id}.mp4",
            sha256="0" * 64,
            bytes=1,
            media={"frames": 1},
            t=1.0,
        )
        state.apply(event)
        live.on_event(event, state.jobs[key])
        assert lines(tmp_path / "results.jsonl")[-1]["id"] == job_id  # streamed at once
    live.checkpoint(lock_document(state, None, manifest))
    assert (tmp_path / "report.html").exists()
    live.finish()
    assert [row["id"] for row in lines(tmp_path / "results.jsonl")] == ["a", "b"]


def test_jobs_that_left_the_manifest_are_not_listed(tmp_path: Path) -> None:
    state = RunState()
    for key in ("old", "new"):
        state.apply(ev.JobDeclared(key=key, id="same"))
        state.apply(ev.Done(key=key, path="videos/same.mp4", sha256=key, bytes=1, t=1.0))
    document = lock_document(state, frozenset({"new"}), ManifestInfo(name="m"))
    LiveReport(tmp_path, document).finish()
    assert [row["key"] for row in lines(tmp_path / "results.jsonl")] == ["new"]


def test_a_row_carries_the_request_images_and_sample() -> None:
    record = JobRecord("k", id="car.2", sample=1, state="done", path="videos/car.2.mp4")
    record.request = {"prompt": "p", "image": {"source": "/i/car.jpg", "sha256": "f" * 64}}
    row = result_row(record, ManifestInfo(name="m", sha256="s"), "9.9")
    assert row["request"]["image"]["sha256"] == "f" * 64
    assert row["request"]["sample"] == 1
    assert row["tool"] == {"name": "hailuo-batch", "version": "9.9"}


def _document(prompt: str, state: str = "done", **extra: Any) -> LockDocument:
    job = {
        "key": "k1",
        "id": "x",
        "state": state,
        "request": {"prompt": prompt, "duration": 6},
        "source": {"file": "/m/<b>.yaml", "line": 3},
        "path": "videos/x y#1.mp4",
        "timings": {},
        "in_manifest": True,
        **extra,
    }
    return LockDocument.from_json(
        {"manifest": {"name": "<i>n</i>"}, "tool": {"version": "1"}, "jobs": {"k1": job}}
    )


def test_the_page_escapes_everything_from_the_manifest() -> None:
    document = _document(HOSTILE, "failed", error={"kind": "content_policy", "message": HOSTILE})
    page = gallery.render_page(document, document.current(), {}, 0.0)
    assert "<script>window" not in page and "<img src=x" not in page
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    assert "<i>n</i>" not in page and "&lt;b&gt;.yaml:3" in page
    assert page.count("<script>") == 1  # the page's own, admitted by its CSP hash
    assert "script-src 'sha256-" in page


def test_video_paths_are_url_encoded() -> None:
    document = _document("p")
    page = gallery.render_page(document, document.current(), {"k1": "thumbs/x.jpg"}, 0)
    assert 'src="videos/x%20y%231.mp4"' in page and 'poster="thumbs/x.jpg"' in page


def test_the_quickstart_report_shows_its_prompts(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_line(
        "run",
        str(ROOT / "pipelines" / "quickstart.yaml"),
        "--simulate",
        "--out",
        str(out),
        "--quiet",
        "--gen-seconds",
        "0.2",
    )
    assert result.exit_code == 0, result.output
    for made in ("videos", "thumbs", "results.jsonl", "manifest.lock.json", "report.html"):
        assert (out / made).exists(), made
    assert len(lines(out / "results.jsonl")) == 3 == len(list((out / "thumbs").iterdir()))
    assert build_report(out, ["html"]) == [out / "report.html"]
    page = (out / "report.html").read_text()
    assert "A red fox trots through fresh snow" in page and "first frame car.jpg" in page


def test_the_gallery_is_rewritten_when_stale_and_always_at_the_end(tmp_path: Path) -> None:
    ticks = iter(range(1000))  # every reading of the clock is a second later

    def clock() -> float:
        return float(next(ticks))

    document = lock_document(RunState(), None, ManifestInfo(name="m"))
    live = LiveReport(tmp_path, document, clock=clock)
    live.checkpoint(document)  # the first one renders: a render "takes" 1 s here
    page = tmp_path / "report.html"
    assert page.exists()
    page.unlink()
    live.checkpoint(lock_document(RunState(), None, ManifestInfo(name="m2")))
    assert not page.exists()  # rendered 1 s ago: not stale before 10 s have passed
    live.finish()
    assert "m2" in page.read_text()
