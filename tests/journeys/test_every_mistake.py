"""A user with a broken manifest sees every mistake in one pass, located, and nothing runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers.bigpng import big_png
from tests.helpers.cli import run_line
from tests.helpers.refusal import refused
from tests.helpers.sim import SimThread

INVALID = sorted((Path(__file__).parent.parent / "manifests" / "invalid").glob("*.yaml"))


def write(tmp_path: Path, text: str) -> Path:
    manifest = tmp_path / "batch.yaml"
    manifest.write_text(text)
    return manifest


def test_a_top_level_typo_does_not_hide_the_mistakes_in_the_jobs(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    """Before: `limitz:` alone was reported, and `promt:` only after it was fixed."""
    manifest = write(
        tmp_path,
        "version: 1\nprovider: novita\nlimitz: {concurrency: 2}\njobs:\n"
        "  - id: a\n    promt: a cat\n",
    )
    refused(
        manifest,
        sim_server(),
        f"{manifest}:3: unknown field 'limitz' (did you mean 'limits'? allowed: defaults, "
        "jobs, limits, model, name, output, prices, provider, routing, vars, version)",
        f"{manifest}:6: job 'a': unknown field 'promt' (did you mean 'prompt'? allowed: "
        "audio, duration, end_image, fast_pretreatment, from, id, image, matrix, model, "
        "prompt, prompt_optimizer, ratio, references, resolution, samples, subject_reference)",
    )


def test_bad_settings_rows_and_rules_are_all_reported_together(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    """Settings, plan checks and `from:` rows: one pass names them all."""
    (tmp_path / "rows.csv").write_text('id,prompt\nr,"unclosed\n')
    manifest = write(
        tmp_path,
        "version: 1\nprovider: novita\noutput: 5\nlimits: {concurrency: 0, submit_rate: fast}\n"
        "jobs:\n"
        "  - id: a\n    prompt: a cat\n    duration: 10\n    resolution: 1080P\n"
        "  - id: a\n    prompt: a dog\n"
        "  - from: rows.csv\n",
    )
    refused(
        manifest,
        sim_server(),
        f"{manifest}:3: `output` must be text (got 5)",
        f"{manifest}:4: `concurrency` must be at least 1 (got 0)",
        f"{manifest}:4: `submit_rate` 'fast' is not of the expected form: At most this many "
        "submits per period, like 20/min, 2/s or 300/h.",
        f"{manifest}:6: job 'a': 1080P is only available at 6 s (got duration 10)",
        f"{manifest}:10: job 'a': id also used by the job at {manifest}:6; ids must be unique",
        f"{tmp_path / 'rows.csv'}:2: job #3: malformed CSV row: a quoted cell that starts in "
        'this row is never closed (the file ends inside quotes): close it with "',
    )


def test_a_key_given_twice_does_not_hide_the_other_mistakes(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    manifest = write(
        tmp_path,
        "version: 1\nprovider: novita\njobs:\n"
        "  - id: a\n    prompt: a cat\n    prompt: a dog\n"
        "  - id: b\n    prompt: a fox\n    duration: 7\n",
    )
    refused(
        manifest,
        sim_server(),
        f"{manifest}:6: key 'prompt' appears twice in the same mapping",
        f"{manifest}:7: job 'b': hailuo-02 makes 6, 10 s videos (got duration 7)",
    )


def test_only_a_mistake_the_jobs_depend_on_stops_at_the_top(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    """Without a known provider no job can be checked: the top-level mistake is shown alone."""
    manifest = write(
        tmp_path,
        "version: 1\nprovider: novitta\nlimitz: {}\njobs:\n  - id: a\n    promt: a cat\n",
    )
    output = refused(
        manifest,
        sim_server(),
        f"{manifest}:2: unknown provider 'novitta' (known: novita, highway, gmi, aimlapi, "
        "minimax, fal, replicate)",
    )
    assert "limitz" in output and "promt" not in output


def test_an_ftp_image_is_refused_for_its_scheme_not_as_a_missing_file(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    """Before: 'image file not found: /tmp/.../ftp:/example.com/a.jpg'."""
    manifest = write(
        tmp_path,
        "version: 1\nprovider: novita\njobs:\n"
        "  - id: a\n    prompt: a cat\n    image: ftp://example.com/a.jpg\n",
    )
    refused(
        manifest,
        sim_server(),
        f"{manifest}:4: job 'a': `image`: unsupported scheme 'ftp' in ftp://example.com/a.jpg: "
        "an image is an http or https URL, a data: URI, or a local file",
    )


def test_a_huge_png_is_refused_as_too_large_in_pixels(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    """Before: a valid 14000x13500 PNG was 'not a readable JPEG, PNG or WebP image', and
    one just past Pillow's limit printed Pillow's raw DecompressionBombWarning."""
    (tmp_path / "huge.png").write_bytes(big_png(14000, 13500))
    (tmp_path / "large.png").write_bytes(big_png(10000, 9000))
    manifest = write(
        tmp_path,
        "version: 1\nprovider: novita\njobs:\n"
        "  - id: huge\n    prompt: a cat\n    image: huge.png\n"
        "  - id: large\n    prompt: a dog\n    image: large.png\n",
    )
    limit = Image.MAX_IMAGE_PIXELS
    output = refused(
        manifest,
        sim_server(),
        f"{manifest}:4: job 'huge': `image`: {tmp_path / 'huge.png'} is too large: "
        f"14000 x 13500 = 189000000 pixels, at most {limit}; scale it down",
        f"{manifest}:7: job 'large': `image`: {tmp_path / 'large.png'} is too large: "
        f"10000 x 9000 = 90000000 pixels, at most {limit}; scale it down",
    )
    assert "DecompressionBomb" not in output


def test_an_output_that_is_a_file_is_refused_before_anything_is_read_or_written(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    """Before: `plan` and `run` ended in a NotADirectoryError / FileExistsError traceback."""
    (tmp_path / "notes.txt").write_text("mine")
    manifest = write(
        tmp_path, "version: 1\nprovider: novita\noutput: notes.txt/out\njobs:\n  - prompt: a cat\n"
    )
    message = (
        f"{manifest}:3: `output` {tmp_path / 'notes.txt/out'} cannot be a folder: "
        f"{tmp_path / 'notes.txt'} is a file; name a folder instead"
    )
    sim = sim_server()
    for result in (
        run_line("plan", str(manifest)),
        run_line("run", str(manifest), "--simulate", "--quiet"),
        sim.run(manifest),
    ):
        assert result.exit_code == 2, result.output
        assert message in result.output.splitlines()
        assert "Traceback" not in result.output
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert sim.stats()["submitted"] == 0


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_run_refuses_every_invalid_manifest_before_writing_anything(
    tmp_path: Path, path: Path
) -> None:
    """Every kind of bad input: exit 2, located messages, no traceback, no output folder."""
    out = tmp_path / "out"
    result = run_line("run", str(path), "--simulate", "--quiet", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{path.name}:" in result.output or f"{path.parent.name}/data/" in result.output
    assert result.output.splitlines()[-1].endswith("nothing was sent.")
    assert not out.exists()
