"""Verification: wrong deliveries are flagged at download; `verify` catches damaged files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hailuo_batch.outputs.verify import mismatches
from hailuo_batch.store.lockfile import read_lock
from tests.helpers.cli import run_line, write_manifest
from tests.helpers.sim import SimThread

FITS = {"frames": 150, "duration": 6.0, "width": 1366, "height": 768}
ASKED = {"duration": 6, "resolution": "768P"}
H3 = {"model": "h3", "duration": 6, "resolution": "2K"}
H3_FITS = {**FITS, "width": 2560, "height": 1440, "audio": "aac"}


@pytest.mark.parametrize(
    ("request_json", "facts", "expected"),
    [
        (ASKED, FITS, []),
        (ASKED, {**FITS, "duration": 5.6}, []),  # within half a second
        (ASKED, {**FITS, "width": 768, "height": 1366}, []),  # portrait: short side counts
        ({"duration": 10, "resolution": "768P"}, FITS, ["duration is 6.00 s, but 10 s"]),
        ({"duration": 6, "resolution": "1080P"}, FITS, ["frame size is 1366x768, but 1080P"]),
        ({"duration": 6, "resolution": "512P"}, {**FITS, "width": 910, "height": 512}, []),
        ({"duration": 6, "resolution": "720P"}, {**FITS, "width": 1280, "height": 720}, []),
        (ASKED, {**FITS, "frames": 0}, ["no frames"]),
        (ASKED, {**FITS, "duration": None}, ["duration cannot be read"]),
        (H3 | {"duration": 4}, {**H3_FITS, "duration": 4.0, "frames": 100}, []),
        (H3 | {"duration": 15}, {**H3_FITS, "duration": 15.0, "frames": 375}, []),
        (H3 | {"duration": 15}, H3_FITS, ["duration is 6.00 s, but 15 s"]),
        (H3, {**H3_FITS, "width": 1440, "height": 2560}, []),  # 2K's size is undocumented
        (H3 | {"resolution": "768P"}, H3_FITS, ["frame size is 2560x1440, but 768P"]),
        (H3, {**H3_FITS, "audio": None}, ["no sound track, but h3 always makes one"]),
        ({**ASKED, "model": "hailuo-02"}, {**FITS, "audio": "aac"}, []),  # sound is no fault
    ],
)
def test_mismatches(
    request_json: dict[str, Any], facts: dict[str, Any], expected: list[str]
) -> None:
    found = mismatches(request_json, facts)
    assert len(found) == len(expected), found
    for message, part in zip(found, expected, strict=True):
        assert part in message


def finished_folder(
    tmp_path: Path, sim_server: Callable[..., SimThread], jobs: int = 2, **sim: object
) -> Path:
    server = sim_server(**sim)
    manifest = write_manifest(tmp_path, jobs)
    result = server.run(manifest)
    assert result.exit_code == 0, result.output
    return tmp_path / "out"


def test_a_good_folder_verifies(tmp_path: Path, sim_server: Callable[..., SimThread]) -> None:
    out = finished_folder(tmp_path, sim_server)
    result = run_line("verify", str(out))
    assert result.exit_code == 0, result.output
    assert "2 video(s) checked, 0 problem(s)" in result.output


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("flip", "content differs from the lock's sha256 (corrupted)"),
        ("truncate", "(truncated or replaced)"),
        ("delete", "the file is missing"),
    ],
)
def test_damaged_files_are_caught(
    tmp_path: Path, sim_server: Callable[..., SimThread], damage: str, expected: str
) -> None:
    out = finished_folder(tmp_path, sim_server)
    video = sorted((out / "videos").glob("*.mp4"))[0]
    data = bytearray(video.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
        video.write_bytes(bytes(data))
    elif damage == "truncate":
        video.write_bytes(bytes(data[: len(data) // 2]))
    else:
        video.unlink()
    result = run_line("verify", str(out), "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False and report["checked"] == 2
    [finding] = report["findings"]
    assert finding["path"] == f"videos/{video.name}" and expected in finding["problem"]
    assert "run the manifest again" in finding["problem"]


@pytest.mark.parametrize(
    ("sim", "expected"),
    [
        ({"deliver_duration": 3.0}, "duration is 3.00 s, but 6 s was asked"),
        ({"deliver_size": (640, 360)}, "frame size is 640x360, but 768P"),
    ],
)
def test_a_wrong_delivery_is_flagged_on_the_job_and_by_verify(
    tmp_path: Path, sim_server: Callable[..., SimThread], sim: dict[str, Any], expected: str
) -> None:
    out = finished_folder(tmp_path, sim_server, jobs=1, **sim)
    lock = read_lock(out)
    assert lock is not None
    [job] = lock.jobs.values()
    assert job.state == "done" and expected in job.warnings[0]
    [row] = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert expected in row["warnings"][0]
    assert expected in (out / "report.html").read_text()
    assert f"warning {job.id}: {expected}" in run_line("status", str(out)).output
    result = run_line("verify", str(out))
    assert result.exit_code == 1
    assert expected in result.output and "(as delivered by novita)" in result.output


def test_verify_of_a_folder_without_a_lock_is_exit_2(tmp_path: Path) -> None:
    result = run_line("verify", str(tmp_path))
    assert result.exit_code == 2
    assert "not an output folder" in result.output
