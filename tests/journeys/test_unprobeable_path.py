"""Journey 12: an output folder whose relative path holds a colon (`--out s3:/x`, meant as a
bucket but taken as a folder). FFmpeg must never read `s3:` as a protocol: the videos are
probed, the run finishes, and nothing waits forever."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers.cli import ROOT, run_line


def test_a_colon_in_the_folder_name_is_just_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    manifest = ROOT / "pipelines" / "quickstart.yaml"
    result = run_line(
        "run", str(manifest), "--simulate", "--out", "s3:/x", "--quiet", "--gen-seconds", "0.2"
    )
    assert result.exit_code == 0, result.output
    out = Path("s3:") / "x"
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all(row["media"]["frames"] > 0 for row in rows)
    assert run_line("verify", os.fspath(out)).exit_code == 0
