"""Fuzzing: whatever a manifest holds, `validate` and `plan` answer 0 or 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.cli import run_line

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "768P",
            "1080P",
            "512P",
            "720P",
            "6",
            "10",
            "novita",
            "gmi",
            "20/min",
            "../samples/images/car.jpg",
            "data:image/png;base64,AAAA",
            "{x}",
            "{{",
            "\u202e\u0000\ud7ff",
            "x" * 2500,
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
job_fields = st.fixed_dictionaries(
    {},
    optional={
        "id": values,
        "prompt": values,
        "image": values,
        "end_image": values,
        "duration": values,
        "resolution": values,
        "samples": values,
        "prompt_optimizer": values,
        "matrix": values,
        "from": values,
        "fast_pretreatment": values,
        "unknown_field": values,
    },
)
nearly_valid = st.fixed_dictionaries(
    {
        "version": st.just(1),
        "provider": st.sampled_from(["novita", "gmi", "minimax"]),
        "jobs": st.lists(job_fields, min_size=1, max_size=5),
    },
    optional={
        "vars": st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), scalars),
        "defaults": job_fields,
        "model": st.sampled_from(["hailuo-02", "video-01"]),
    },
)
anything = st.fixed_dictionaries(
    {},
    optional={
        "version": st.one_of(st.just(1), values),
        "provider": st.one_of(
            st.sampled_from(["novita", "gmi", "aimlapi", "minimax", "highway"]), values
        ),
        "model": st.one_of(st.sampled_from(["hailuo-02", "video-01"]), values),
        "name": values,
        "output": values,
        "defaults": values,
        "limits": values,
        "vars": values,
        "prices": values,
        "jobs": st.one_of(st.lists(job_fields, max_size=5), values),
    },
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(nearly_valid | anything)
def test_any_structure_gets_exit_0_or_2(tmp_path: Path, data: dict[str, object]) -> None:
    path = tmp_path / "fuzz.yaml"
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        return
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    for command in (["validate"], ["plan", "--out", str(tmp_path / "out")]):
        result = run_line(*command, str(path))
        assert result.exit_code in (0, 2), result.output
        assert "Traceback" not in result.output


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_any_bytes_get_exit_0_or_2(tmp_path: Path, blob: bytes | str) -> None:
    path = tmp_path / "fuzz.yaml"
    if isinstance(blob, str):
        path.write_text(blob, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(blob)
    result = run_line("validate", str(path))
    assert result.exit_code in (0, 2), result.output


csv_like = st.text(alphabet='ip,"\n\r {}x\u2028\x00', max_size=200)
headers = st.sampled_from(["", "id,prompt,duration\n", "prompt,mood\n", '{"prompt": "a"}\n'])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(["rows.csv", "rows.jsonl"]), headers, csv_like | st.binary(max_size=200))
def test_any_from_file_gets_exit_0_or_2(
    tmp_path: Path, name: str, header: str, body: str | bytes
) -> None:
    """Whatever a `from:` file holds, every row is taken or refused, never a traceback."""
    data = header.encode() + (
        body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    )
    (tmp_path / name).write_bytes(data)
    path = tmp_path / "fuzz.yaml"
    path.write_text(f"version: 1\nprovider: novita\njobs:\n  - from: {name}\n")
    result = run_line("validate", str(path))
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
