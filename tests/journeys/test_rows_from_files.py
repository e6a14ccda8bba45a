"""A user feeds jobs from a CSV or JSONL file: every row is taken as written, or refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.helpers.cli import run_line
from tests.helpers.refusal import refused
from tests.helpers.sim import SimThread


def from_file(tmp_path: Path, name: str, text: str, entry: str = "") -> tuple[Path, Path]:
    """A manifest with one `from:` entry (line 4) reading `name`, which holds `text`."""
    data = tmp_path / name
    data.write_text(text, encoding="utf-8", newline="")
    manifest = tmp_path / "batch.yaml"
    manifest.write_text(f"version: 1\nprovider: novita\njobs:\n  - from: {name}\n{entry}")
    return manifest, data


def test_an_unclosed_quote_is_refused_instead_of_merging_two_rows(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    """Before: the two rows became one prompt, 'a cat\\nb,a dog', and it was paid for."""
    manifest, data = from_file(tmp_path, "rows.csv", 'id,prompt\na,"a cat\nb,a dog\n')
    refused(
        manifest,
        sim_server(),
        f"{data}:2: job #1: malformed CSV row: a quoted cell that starts in this row is "
        'never closed (the file ends inside quotes): close it with "',
    )


def test_rows_with_too_few_or_too_many_cells_are_each_refused_at_their_line(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    text = "id,prompt,duration\na,a cat\nb,a dog, running,6\nc,a fox,10\n"
    manifest, data = from_file(tmp_path, "rows.csv", text)
    refused(
        manifest,
        sim_server(),
        f"{data}:2: job #1: this row has 2 cell(s) but the header has 3 columns: "
        "leave a cell empty with an extra comma",
        f"{data}:3: job #1: this row has 4 cells but the header has 3 columns: "
        'quote cells that contain commas ("a, b")',
    )


def test_a_mistake_in_a_multi_line_row_is_reported_at_the_row_first_line(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    """Before: the row's last line was named, which is where the user does not look."""
    text = 'id,prompt,duration\na,"a cat\non a windowsill\nat dawn",7\n'
    manifest, data = from_file(tmp_path, "rows.csv", text)
    refused(
        manifest,
        sim_server(),
        f"{data}:2: job 'a': hailuo-02 makes 6, 10 s videos (got duration 7)",
    )


def test_quoted_multi_line_cells_are_accepted_as_one_prompt(tmp_path: Path) -> None:
    text = 'id,prompt\na,"a cat\non a windowsill"\nb,"a dog, running"\n'
    manifest, _ = from_file(tmp_path, "rows.csv", text)
    result = run_line("validate", str(manifest))
    assert result.exit_code == 0, result.output
    assert f"{manifest}: ok, 2 job(s)" in result.output.splitlines()


def test_a_csv_with_a_header_and_no_rows_is_refused(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    """Before: 0 jobs ran and the exit code said all was well."""
    manifest, data = from_file(tmp_path, "rows.csv", "id,prompt\n")
    refused(
        manifest,
        sim_server(),
        f"{manifest}:4: job #1: `from:` file {data} has a header but no rows: add rows, "
        "or remove this entry",
    )


def test_an_empty_jsonl_file_is_refused(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    manifest, data = from_file(tmp_path, "rows.jsonl", "\n")
    refused(
        manifest,
        sim_server(),
        f"{manifest}:4: job #1: `from:` file {data} has no rows: write one JSON object per line",
    )


TYPO = (
    "is not a job field: did you mean '{}'? Rename it: as it is, it would only be a label "
    "and change no video"
)


def test_a_misspelt_column_is_refused_once_at_the_header(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    """Before: `duraton` became a template variable and the user got 6 s instead of 10."""
    text = "".join(f"job-{i},scene {i},10\n" for i in range(50))
    manifest, data = from_file(tmp_path, "rows.csv", "id,prompt,duraton\n" + text)
    output = refused(
        manifest, sim_server(), f"{data}:1: job #1: column 'duraton' {TYPO.format('duration')}"
    )
    assert output.count("duraton") == 1


def test_id_and_prompt_in_capitals_are_named_instead_of_an_empty_prompt(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    """Before: each row said 'prompt must be 1 to 2000 characters', which misleads."""
    manifest, data = from_file(tmp_path, "rows.csv", "ID,Prompt\na,a cat\nb,a dog\n")
    output = refused(
        manifest,
        sim_server(),
        f"{data}:1: job #1: column 'ID' {TYPO.format('id')}",
        f"{data}:1: job #1: column 'Prompt' {TYPO.format('prompt')}",
    )
    assert "characters" not in output


def test_a_misspelt_jsonl_key_is_refused_at_the_first_line_that_has_it(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    text = (
        '{"prompt": "a cat"}\n'
        '{"prompt": "a dog", "Samples": 2}\n'
        '{"prompt": "a fox", "Samples": 3}\n'
    )
    manifest, data = from_file(tmp_path, "rows.jsonl", text)
    output = refused(
        manifest, sim_server(), f"{data}:2: job #1: key 'Samples' {TYPO.format('samples')}"
    )
    assert output.count("Samples") == 1


def test_a_misspelt_matrix_key_is_refused_where_it_is_written(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    manifest = tmp_path / "batch.yaml"
    manifest.write_text(
        "version: 1\nprovider: novita\njobs:\n  - prompt: a cat\n    matrix:\n"
        "      duraton: [6, 10]\n"
    )
    refused(
        manifest,
        sim_server(),
        f"{manifest}:6: job #1: matrix key 'duraton' {TYPO.format('duration')}",
    )


def test_extra_columns_are_labels_even_when_they_look_like_a_field_a_template_uses(
    tmp_path: Path,
) -> None:
    """`Duration` fills {Duration} in the prompt; `category` is a plain label: both fine."""
    text = 'prompt,Duration,category\n"a cat, {Duration}",long,pets\n'
    manifest, _ = from_file(tmp_path, "rows.csv", text)
    result = run_line("validate", str(manifest))
    assert result.exit_code == 0, result.output
    assert f"{manifest}: ok, 1 job(s)" in result.output.splitlines()
