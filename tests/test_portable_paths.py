"""Outputs name no local folder: image sources and job sources are recorded relative to the
manifest's folder, data: URIs as a short marker, so a shared data set leaks no home."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from hailuo_batch import load_plan
from hailuo_batch.core.jobs import ImageRef, Source
from tests.helpers.cli import ROOT, run_line

IMAGES = ROOT / "samples" / "images"


def _project(tmp_path: Path) -> Path:
    """A manifest in tmp_path/project using a local frame, a data: URI and a CSV in a
    subfolder whose frames are relative to the CSV."""
    project = tmp_path / "project"
    (project / "images").mkdir(parents=True)
    (project / "rows").mkdir()
    shutil.copy(IMAGES / "car.jpg", project / "images" / "car.jpg")
    fox = base64.b64encode((IMAGES / "fox-portrait.png").read_bytes()).decode()
    (project / "rows" / "prompts.csv").write_text(
        "id,prompt,image,mood\nlake,a still lake,../images/car.jpg,calm\n"
    )
    manifest = project / "m.yaml"
    manifest.write_text(
        "version: 1\nname: portable\nprovider: novita\noutput: out\n"
        "limits: {concurrency: 4, submit_rate: 1000/s}\n"
        "jobs:\n"
        "  - {id: car, prompt: a car at dusk, image: images/car.jpg}\n"
        f"  - {{id: fox, prompt: a fox, image: 'data:image/png;base64,{fox}'}}\n"
        "  - from: rows/prompts.csv\n"
    )
    return manifest


def _run(manifest: Path) -> Path:
    result = run_line("run", str(manifest), "--simulate", "--quiet", "--gen-seconds", "0.2")
    assert result.exit_code == 0, result.output
    return manifest.parent / "out"


def _rows(out: Path) -> dict[str, dict[str, Any]]:
    lines = (out / "results.jsonl").read_text().splitlines()
    return {row["id"]: row for row in map(json.loads, lines)}


def test_no_output_file_names_the_folder_the_run_was_made_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest is given by its absolute path, and every output is still portable."""
    out = _run(_project(tmp_path))
    formats = ("html", "jsonl", "csv", "parquet")
    result = run_line("report", str(out), *(arg for f in formats for arg in ("--format", f)))
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(tmp_path)
    status = run_line("status", "project/out", "--json")
    assert status.exit_code == 0
    made = [path for path in out.rglob("*") if path.is_file()]
    expected = {"journal.jsonl", "manifest.lock.json", "results.jsonl", "results.csv"}
    expected |= {"results.parquet", "report.html", "metadata.jsonl"}
    assert expected <= {path.name for path in made}
    home = str(tmp_path).encode()
    assert [path for path in made if home in path.read_bytes()] == []
    assert str(tmp_path) not in status.stdout


def test_frames_and_sources_are_recorded_from_the_manifests_folder(tmp_path: Path) -> None:
    out = _run(_project(tmp_path))
    rows = _rows(out)
    assert rows["car"]["request"]["image"]["source"] == "images/car.jpg"
    assert rows["lake"]["request"]["image"]["source"] == "images/car.jpg"
    fox = rows["fox"]["request"]["image"]
    assert fox["source"] == f"data:image/png;sha256={fox['sha256']}"
    assert rows["car"]["source"] == {"file": "m.yaml", "line": 7}
    assert rows["lake"]["source"] == {"file": "rows/prompts.csv", "line": 2}
    lock = json.loads((out / "manifest.lock.json").read_text())
    assert lock["manifest"]["path"] == "../m.yaml"


def test_an_old_lock_with_absolute_paths_reads_and_the_next_run_makes_them_relative(
    tmp_path: Path,
) -> None:
    """Nothing is submitted again: the job keys hash the bytes, not the path."""
    manifest = _project(tmp_path)
    out = _run(manifest)
    journal = out / "journal.jsonl"
    absolute = json.dumps(str(manifest.parent / "images" / "car.jpg"))
    journal.write_text(journal.read_text().replace('"images/car.jpg"', absolute))
    (out / "manifest.lock.json").unlink()
    status = run_line("status", str(out), "--json")
    assert status.exit_code == 0 and json.loads(status.stdout)["by_state"] == {"done": 3}
    events = len(journal.read_text().splitlines())
    _run(manifest)
    added = [json.loads(line) for line in journal.read_text().splitlines()[events:]]
    assert {event["ev"] for event in added} <= {"run", "job"}  # declared again, not sent
    assert str(tmp_path) not in (out / "manifest.lock.json").read_text()
    assert _rows(out)["car"]["request"]["image"]["source"] == "images/car.jpg"


@pytest.mark.parametrize(
    ("ref", "recorded"),
    [
        (ImageRef("https://cdn.example/a.jpg?sig=1", "url"), "https://cdn.example/a.jpg?sig=1"),
        (ImageRef("data:image/png;base64,AAAA", "data", "ab", "PNG"), "data:image/png;sha256=ab"),
        (ImageRef("/home/me/a.jpg", "path", "ab", relative="../a.jpg"), "../a.jpg"),
        (ImageRef("/home/me/a.jpg", "path", "ab"), "a.jpg"),  # built by hand: the name only
    ],
    ids=["url", "data", "path", "unplaced-path"],
)
def test_an_image_is_recorded_without_a_local_folder_or_base64(
    ref: ImageRef, recorded: str
) -> None:
    assert ref.recorded == recorded


def test_subject_and_reference_images_are_recorded_from_the_manifests_folder(
    tmp_path: Path,
) -> None:
    """Every image a request sends is recorded the same way, whatever field names it."""
    project = _project(tmp_path).parent
    manifest = project / "refs.yaml"
    manifest.write_text(
        "version: 1\nprovider: minimax\nmodel: h3\noutput: out\njobs:\n"
        "  - {id: s, model: s2v-01, prompt: a fox, subject_reference: images/car.jpg}\n"
        "  - id: r\n    prompt: a car\n"
        "    references: [{image: images/car.jpg}, {video: 'https://cdn.example/v.mp4'}]\n"
    )
    plan = load_plan(manifest)
    requests = {job.id: job.request.to_json() for job in plan.jobs}
    assert requests["s"]["subject_reference"]["source"] == "images/car.jpg"  # type: ignore[index]
    assert [ref["source"] for ref in requests["r"]["references"]] == [  # type: ignore[attr-defined]
        "images/car.jpg",
        "https://cdn.example/v.mp4",
    ]


def test_a_source_is_recorded_without_the_path_as_typed() -> None:
    assert Source("/home/me/m.yaml", 3).to_json() == {"file": "m.yaml", "line": 3}
    assert Source("/home/me/m.yaml", 3, "m.yaml").to_json() == {"file": "m.yaml", "line": 3}
