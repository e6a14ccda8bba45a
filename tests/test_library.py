"""The library's front door: exported names, the README's examples run as written, dict
manifests with their keys named, and a host process whose signal handlers are left alone."""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
from pathlib import Path
from types import FrameType

import pytest

import hailuo_batch as hb
from tests.helpers.cli import ROOT

EXPORTED = {
    "FolderStatus", "HailuoBatchError", "ManifestError", "OutputFolder", "Plan", "Problem",
    "Result", "RunSummary", "Verification", "__version__", "arun", "events", "load_plan",
    "plan", "run",
}  # fmt: skip


def test_the_exported_names_are_the_documented_ones_and_all_resolve() -> None:
    assert set(hb.__all__) == EXPORTED
    for name in hb.__all__:
        assert getattr(hb, name) is not None, name
    assert (Path(hb.__file__).parent / "py.typed").exists()
    with pytest.raises(AttributeError):
        hb.no_such_name  # noqa: B018


def _readme_examples() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## From Python") : text.index("## Exit codes")]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.mark.parametrize("index", [0, 1], ids=["notebook", "orchestrator"])
def test_the_readme_examples_run_as_written(
    index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines")
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    code = _readme_examples()[index]
    scope: dict[str, object] = {"__name__": "readme"}
    exec(compile(code, f"README.md example {index + 1}", "exec"), scope)
    if index == 0:
        assert len(list((tmp_path / "out" / "notebook" / "videos").glob("*.mp4"))) == 3
    else:
        assert len(scope["videos"]) == 3  # type: ignore[arg-type]
        assert all(Path(video).exists() for video in scope["videos"])  # type: ignore[attr-defined]


def test_a_dict_manifest_names_its_keys_in_every_problem(tmp_path: Path) -> None:
    manifest = {
        "version": 1,
        "provider": "novita",
        "limitz": {"concurrency": 2},
        "jobs": [{"id": "ok", "prompt": "fine"}, {"id": "typo", "promt": "a fox"}],
    }
    with pytest.raises(hb.ManifestError) as caught:
        hb.load_plan(manifest, base=tmp_path)
    shown = [str(problem) for problem in caught.value.problems]
    assert any(s.startswith("<dict>:") and "'limitz'" in s for s in shown), shown
    assert any("job 'typo'" in s and "'promt'" in s for s in shown), shown


def test_run_leaves_the_hosts_signal_handlers_as_they_were(tmp_path: Path) -> None:
    def host_handler(signum: int, frame: FrameType | None) -> None:
        return None

    manifest = {"version": 1, "provider": "novita", "jobs": [{"id": "a", "prompt": "x"}]}
    before = {sig: signal.signal(sig, host_handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for asked in (False, True):
            summary = hb.run(
                manifest,
                tmp_path / f"out-{asked}",
                simulate=True,
                handle_signals=asked,
                sim_options={"gen_seconds": 0.1},
            )
            assert summary.exit_code == 0
            assert signal.getsignal(signal.SIGINT) is host_handler
            assert signal.getsignal(signal.SIGTERM) is host_handler
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def test_run_works_inside_a_running_event_loop_as_in_a_notebook(tmp_path: Path) -> None:
    manifest = {"version": 1, "provider": "novita", "jobs": [{"id": "a", "prompt": "x"}]}

    async def notebook_cell() -> hb.RunSummary:
        return hb.run(manifest, tmp_path / "out", simulate=True, sim_options={"gen_seconds": 0.1})

    assert asyncio.run(notebook_cell()).exit_code == 0


def test_on_event_sees_every_event_after_it_is_written(tmp_path: Path) -> None:
    manifest = {"version": 1, "provider": "novita", "jobs": [{"id": "a", "prompt": "x"}]}
    journal = tmp_path / "out" / "journal.jsonl"
    seen: list[str] = []

    def on_event(event: hb.events.Event, record: object) -> None:
        assert journal.read_text().count("\n") >= len(seen) + 1  # on disk before we hear
        seen.append(event.KIND)

    hb.run(manifest, tmp_path / "out", simulate=True, on_event=on_event,
           sim_options={"gen_seconds": 0.1})  # fmt: skip
    assert seen[0] == "run" and "submitted" in seen and seen[-1] == "done"
    assert [r.id for r in hb.OutputFolder(tmp_path / "out").results()] == ["a"]
