"""`status`, `verify` and `report` on any folder: one clear line and exit 2 where no run
wrote, and the journal folded where a run has not written its first lockfile yet."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers.cli import ROOT, run_line

COMMANDS = (("status",), ("verify",), ("report",), ("status", "--json"), ("verify", "--json"))


def _quickstart(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    result = run_line(
        "run", str(ROOT / "pipelines" / "quickstart.yaml"), "--simulate", "--out", str(out),
        "--quiet", "--gen-seconds", "0.2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _one_error_line(output: str, folder: Path) -> str:
    (line,) = output.strip().splitlines()
    assert line.startswith(f"error: {folder} ") and "not an output folder" in line, line
    return line


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_an_empty_folder_is_not_an_output_folder(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = run_line(command[0], str(tmp_path), *command[1:])
    assert result.exit_code == 2
    assert "has no journal.jsonl or manifest.lock.json" in _one_error_line(result.output, tmp_path)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_folder_whose_lockfile_is_not_one_is_not_an_output_folder(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    (tmp_path / "manifest.lock.json").write_text("[1, 2]\n")
    (tmp_path / "notes.txt").write_text("holiday pictures\n")
    result = run_line(command[0], str(tmp_path), *command[1:])
    assert result.exit_code == 2
    line = _one_error_line(result.output, tmp_path)
    assert "has a manifest.lock.json that is not a lockfile" in line
    (tmp_path / "manifest.lock.json").unlink()  # not ours: spared the schema check of tmp_path


def test_a_folder_with_a_journal_only_is_read_from_its_journal(tmp_path: Path) -> None:
    """As in a run's first seconds, before its first checkpoint writes the lockfile."""
    out = _quickstart(tmp_path)
    for made in ("manifest.lock.json", "results.jsonl", "report.html", "videos/metadata.jsonl"):
        (out / made).unlink()
    shutil.rmtree(out / "thumbs")
    status = run_line("status", str(out), "--json")
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["by_state"] == {"done": 3}
    verify = run_line("verify", str(out), "--json")
    assert verify.exit_code == 0, verify.output
    assert json.loads(verify.stdout)["checked"] == 3
    report = run_line("report", str(out), "--format", "html", "--format", "jsonl")
    assert report.exit_code == 0, report.output
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == ["car", "fox", "koi"]
    assert len((out / "videos" / "metadata.jsonl").read_text().splitlines()) == 3
    assert "A red fox trots" in (out / "report.html").read_text()
    assert not (out / "manifest.lock.json").exists()  # the run writes the lockfile, not report


def test_a_damaged_lockfile_is_read_from_the_journal(tmp_path: Path) -> None:
    out = _quickstart(tmp_path)
    (out / "manifest.lock.json").write_text('{"jobs": {"k": ')
    result = run_line("verify", str(out))
    assert result.exit_code == 0, result.output
    assert "3 video(s) checked, 0 problem(s)" in result.output
    (out / "manifest.lock.json").unlink()  # not a lock: spared the schema check of tmp_path


def test_a_run_in_its_first_seconds_is_read_from_its_journal(tmp_path: Path) -> None:
    """The first events of a run (jobs declared, one submitted): no lockfile yet."""
    journal = tmp_path / "journal.jsonl"
    events = [
        {"ev": "run", "t": 1.0, "jobs": 2, "simulated": True},
        {"ev": "job", "t": 1.0, "key": "k1", "id": "fox", "request": {"prompt": "a fox"}},
        {"ev": "job", "t": 1.0, "key": "k2", "id": "koi", "request": {"prompt": "koi"}},
        {"ev": "submitting", "t": 1.1, "key": "k1", "provider": "novita", "simulated": True},
    ]
    journal.write_text("".join(json.dumps(event) + "\n" for event in events))
    status = run_line("status", str(tmp_path), "--json")
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["jobs"] == 2
    verify = run_line("verify", str(tmp_path))
    assert verify.exit_code == 0 and "2 job(s) not done" in verify.output
    assert run_line("report", str(tmp_path)).exit_code == 0
    assert (tmp_path / "results.jsonl").read_text() == ""
    assert "a fox" in (tmp_path / "report.html").read_text()
