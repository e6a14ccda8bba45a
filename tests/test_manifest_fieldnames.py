"""Names that are not job fields: which look like a misspelt one."""

from __future__ import annotations

import pytest

from hailuo_batch.manifest.fieldnames import JOB_FIELDS, meant_field


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("duraton", "duration"),
        ("ID", "id"),
        ("Prompt", "prompt"),
        (" prompt ", "prompt"),
        ("End Image", "end_image"),
        ("end-image", "end_image"),
        ("resolutoin", "resolution"),
        ("sample", "samples"),
        ("prompt_optimiser", "prompt_optimizer"),
    ],
)
def test_a_name_close_to_a_job_field_is_taken_for_it(name: str, field: str) -> None:
    assert meant_field(name) == field


LABELS = ["mood", "idx", "uid", "prompt_id", "category", "img"]


@pytest.mark.parametrize("name", [*LABELS, *JOB_FIELDS])
def test_labels_and_job_fields_themselves_are_not_misspellings(name: str) -> None:
    """`idx`, `uid`, `prompt_id` are common labels: near `id`/`prompt`, but not typos."""
    assert meant_field(name) is None
