"""Journey 5: `--out` names a folder of the user's own files. It is refused before anything
is sent or written; a folder that cannot be written to is refused the same way."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.cli import keys_env, run_line, write_manifest
from tests.helpers.sim import SimThread


def test_a_folder_of_someone_elses_files_is_refused_untouched(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server()
    mine = tmp_path / "my-videos"
    (mine / "videos").mkdir(parents=True)
    (mine / "videos" / "fox.mp4").write_bytes(b"my own fox")
    (mine / "report.html").write_text("my own report")
    manifest = write_manifest(tmp_path, 1)
    result = sim.run(manifest, "--out", str(mine))
    assert result.exit_code == 2, result.output
    assert "is not empty" in result.output and "holds no hailuo-batch journal" in result.output
    assert (mine / "videos" / "fox.mp4").read_bytes() == b"my own fox"
    assert (mine / "report.html").read_text() == "my own report"
    assert sorted(p.name for p in mine.rglob("*")) == ["fox.mp4", "report.html", "videos"]
    assert sim.stats()["submitted"] == 0


def test_a_path_under_a_file_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    manifest = write_manifest(tmp_path, 1)
    result = run_line("run", str(manifest), "--out", str(tmp_path / "a-file" / "out"),
                      env=keys_env("k"))  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "is a file; name a folder instead" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_a_read_only_folder_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    manifest = write_manifest(tmp_path, 1)
    try:
        result = run_line("run", str(manifest), env=keys_env("k"))
    finally:
        out.chmod(0o755)
    assert result.exit_code == 2, result.output
    assert "cannot be written to (Permission denied)" in result.output
