"""One copy of each schema, loaded the same way from a checkout and from an installed wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from hailuo_batch.core import schemas
from tests.helpers.cli import ROOT


def test_checkout_loads_the_top_level_schema() -> None:
    loaded = schemas.load("manifest.schema.json")
    assert loaded["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert Path(str(schemas.schema_dir())).resolve() == (ROOT / "schemas").resolve()


def test_no_second_copy_of_a_schema_in_the_package() -> None:
    assert not list((ROOT / "hailuo_batch").rglob("*.schema.json"))


@pytest.mark.slow
def test_installed_wheel_carries_and_loads_the_schema(tmp_path: Path) -> None:
    """Build the wheel, install it apart from the checkout, and load the schema from it."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "hailuo_batch/_schemas/manifest.schema.json" in names
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    code = (
        "import hailuo_batch.core.schemas as s; d = s.schema_dir(); "
        "print(str(d)); print(s.load('manifest.schema.json')['title'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target)},
    )
    where, title = out.stdout.splitlines()
    assert where.startswith(str(target)) and where.endswith("_schemas")
    assert title == "hailuo-batch manifest"
