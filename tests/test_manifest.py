"""Loading manifests: lines kept, hostile YAML harmless, `from:` rows typed, templates filled."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hailuo_batch.errors import ManifestError
from hailuo_batch.manifest.document import load_manifest
from hailuo_batch.manifest.images import image_ref
from hailuo_batch.manifest.plan import build_plan, render
from hailuo_batch.manifest.rows import read_rows
from hailuo_batch.manifest.yamlfile import load_yaml, parse_yaml


def test_lines_are_kept_for_mappings_keys_and_lists() -> None:
    data = load_yaml("a: 1\njobs:\n  - id: x\n    prompt: p\n", "f.yaml")
    assert data.key_lines == {"a": 1, "jobs": 2}
    assert data["jobs"].line == 3 and data["jobs"][0].line == 3
    assert data["jobs"][0].key_lines["prompt"] == 4


def test_alias_bomb_is_refused_quickly() -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    start = time.perf_counter()
    with pytest.raises(ManifestError, match="aliases expand this document"):
        load_yaml("\n".join(levels), "bomb.yaml")
    assert time.perf_counter() - start < 2.0  # 10^9 values if expanded


def test_a_key_given_twice_comes_back_beside_the_data() -> None:
    """The document is still usable (the last value wins), so checking can go on."""
    data, problems = parse_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert data == {"a": 3, "b": 2}
    assert [str(p) for p in problems] == ["f.yaml:3: key 'a' appears twice in the same mapping"]


def test_merge_keys_still_work() -> None:
    data = load_yaml("d: &d {x: 1, y: 2}\ne: {<<: *d, y: 3}\n", "f.yaml")
    assert data["e"] == {"x": 1, "y": 3}


def test_object_tags_are_refused() -> None:
    with pytest.raises(ManifestError, match="YAML tags that build objects"):
        load_yaml("a: !!python/object/apply:os.system [echo]\n", "f.yaml")


def test_a_bad_setting_is_recorded_and_the_jobs_still_load(tmp_path: Path) -> None:
    """`limits:` is not needed to expand jobs: its mistake waits beside theirs."""
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nprovider: novita\noutput: 5\nlimits: {concurrency: 0}\n"
        "jobs:\n  - prompt: a cat\n  - promt: a dog\n"
    )
    manifest = load_manifest(path)
    assert [j["prompt"] for j in manifest.jobs] == ["a cat"]
    assert [p.line for p in manifest.problems] == [3, 4, 7]
    assert manifest.limits == {} and manifest.output is None


def test_csv_cells_get_their_field_types(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text('id,prompt,duration,prompt_optimizer,mood\na,"x, y",10,no,calm\nb,z,,,\n')
    assert read_rows(path).rows == [
        (
            2,
            {
                "id": "a",
                "prompt": "x, y",
                "duration": 10,
                "prompt_optimizer": False,
                "mood": "calm",
            },
        ),
        (3, {"id": "b", "prompt": "z"}),
    ]


@pytest.mark.parametrize(
    ("template", "expected", "missing"),
    [
        ("a {x} b", "a 1 b", []),
        ("{{x}} {x}", "{x} 1", []),
        ("{flag}", "true", []),
        ("{nope}", "{nope}", ["nope"]),
        ("no braces", "no braces", []),
    ],
)
def test_render(template: str, expected: str, missing: list[str]) -> None:
    assert render(template, {"x": 1, "flag": True}) == (expected, missing)


def test_matrix_rows_and_samples_expand_in_order(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text('{"id": "r1", "prompt": "row {mood}", "mood": "calm"}\n')
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nprovider: novita\nvars: {v: V}\njobs:\n"
        "  - id: 'm-{animal}-{duration}'\n    matrix: {animal: [fox, koi], duration: [6, 10]}\n"
        "    prompt: 'a {animal} {v}'\n"
        "  - from: rows.jsonl\n    samples: 2\n"
    )
    plan = build_plan(load_manifest(path), read_rows, image_ref)
    assert [j.id for j in plan.jobs] == ["m-fox-6", "m-fox-10", "m-koi-6", "m-koi-10", "r1", "r1.2"]
    assert plan.jobs[1].request.prompt == "a fox V" and plan.jobs[1].request.duration == 10
    assert plan.jobs[4].request.prompt == "row calm"
    assert plan.jobs[4].source.file.endswith("rows.jsonl") and plan.jobs[4].source.line == 1
    assert plan.jobs[4].key != plan.jobs[5].key


def test_extra_columns_and_matrix_keys_become_labels(tmp_path: Path) -> None:
    """Labels travel with the job: the row's extra cells, the combination's extra keys."""
    (tmp_path / "rows.csv").write_text("id,prompt,mood,shot\na,a cat {mood},calm,12\nb,a dog,,\n")
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nprovider: novita\njobs:\n"
        "  - matrix: {animal: [fox], duration: [6]}\n    prompt: 'a {animal}'\n"
        "  - from: rows.csv\n  - prompt: plain\n"
    )
    plan = build_plan(load_manifest(path), read_rows, image_ref)
    assert [j.meta for j in plan.jobs] == [
        {"animal": "fox"},
        {"mood": "calm", "shot": "12"},
        {},
        {},
    ]


def test_labels_do_not_change_the_job_key(tmp_path: Path) -> None:
    """Two rows that differ only in a label ask for the same video."""
    (tmp_path / "rows.csv").write_text("prompt,mood\na cat,calm\na cat,stormy\n")
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nprovider: novita\njobs:\n  - from: rows.csv\n")
    first, second = build_plan(load_manifest(path), read_rows, image_ref).jobs
    assert first.meta != second.meta
    assert first.key == second.key
