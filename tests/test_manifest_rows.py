"""Reading `from:` files: a row is taken only when it is exactly what the header says."""

from __future__ import annotations

from pathlib import Path

import pytest

from hailuo_batch.manifest.rows import read_rows


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_an_unclosed_quote_at_the_end_of_the_file_is_refused_at_the_row_that_opens_it(
    tmp_path: Path,
) -> None:
    """Two rows would otherwise merge into one prompt; the row that opens the quote is named."""
    rows = read_rows(write(tmp_path, "r.csv", 'id,prompt\na,"a cat\nb,a dog\n'))
    assert rows.rows == []
    assert rows.problems == [
        (
            2,
            "malformed CSV row: a quoted cell that starts in this row is never closed "
            '(the file ends inside quotes): close it with "',
        )
    ]


def test_text_after_a_closing_quote_is_refused_and_later_rows_still_read(tmp_path: Path) -> None:
    """One bad row does not hide the rest: the next row is read on its own."""
    rows = read_rows(write(tmp_path, "r.csv", 'id,prompt\na,"a "cat"\nb,a dog\n'))
    assert [line for line, _ in rows.problems] == [2]
    assert "must be doubled" in rows.problems[0][1]
    assert rows.rows == [(3, {"id": "b", "prompt": "a dog"})]


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ("a,a cat", "this row has 2 cell(s) but the header has 3 columns"),
        ("a,a cat, in snow,6", "this row has 4 cells but the header has 3 columns"),
    ],
)
def test_a_row_with_fewer_or_more_cells_than_the_header_is_refused(
    tmp_path: Path, row: str, says: str
) -> None:
    """A missing or stray comma shifts values into the wrong fields: refuse the row."""
    rows = read_rows(write(tmp_path, "r.csv", f"id,prompt,duration\n{row}\n"))
    assert rows.rows == []
    assert rows.problems[0][0] == 2 and rows.problems[0][1].startswith(says)


def test_a_quoted_multi_line_cell_is_kept_and_its_row_starts_on_its_first_line(
    tmp_path: Path,
) -> None:
    """Line breaks inside quotes are prompt text; the row is located where it begins."""
    text = 'id,prompt\na,"line one\nline two\nline three"\nb,a dog\n'
    rows = read_rows(write(tmp_path, "r.csv", text))
    assert rows.problems == []
    assert rows.rows == [
        (2, {"id": "a", "prompt": "line one\nline two\nline three"}),
        (5, {"id": "b", "prompt": "a dog"}),
    ]


def test_blank_lines_are_skipped_and_do_not_shift_line_numbers(tmp_path: Path) -> None:
    rows = read_rows(write(tmp_path, "r.csv", "\nid,prompt\r\n\r\na,a cat\r\n"))
    assert rows.names == {"id": 2, "prompt": 2}
    assert rows.rows == [(4, {"id": "a", "prompt": "a cat"})]


def test_a_header_naming_a_column_twice_or_not_at_all_is_refused(tmp_path: Path) -> None:
    rows = read_rows(write(tmp_path, "r.csv", "prompt,prompt,\na,b,\n"))
    assert rows.problems == [
        (1, "column 'prompt' appears twice in the header"),
        (1, "column 3 of the header has no name: name it, or delete it"),
    ]


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("r.csv", "id,prompt\n", "has a header but no rows"),
        ("r.csv", "", "is empty (a header row names the columns)"),
        ("r.jsonl", "\n  \n", "has no rows: write one JSON object per line"),
    ],
)
def test_a_file_without_rows_is_an_error(tmp_path: Path, name: str, text: str, says: str) -> None:
    """Zero jobs from a data file is a mistake, as `jobs: []` is, not a successful run."""
    with pytest.raises(ValueError) as raised:
        read_rows(write(tmp_path, name, text))
    assert f"`from:` file {tmp_path / name} {says}" in str(raised.value)


def test_jsonl_names_are_located_at_the_first_line_that_has_them(tmp_path: Path) -> None:
    text = '{"prompt": "a"}\n\n{"prompt": "b", "mood": "calm"}\n{"mood": "x"}\n'
    assert read_rows(write(tmp_path, "r.jsonl", text)).names == {"prompt": 1, "mood": 3}


def test_jsonl_strings_may_hold_unicode_line_separators(tmp_path: Path) -> None:
    """JSON allows U+2028 unescaped in a string: it does not end the line."""
    rows = read_rows(write(tmp_path, "r.jsonl", '{"prompt": "a\u2028b"}\r\n{"prompt": "c"}\n'))
    assert rows.problems == []
    assert rows.rows == [(1, {"prompt": "a\u2028b"}), (2, {"prompt": "c"})]
