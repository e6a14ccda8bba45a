"""What every refused manifest must look like, whichever command the user typed."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.cli import run_line
from tests.helpers.sim import SimThread


def refused(manifest: Path, sim: SimThread, *messages: str) -> str:
    """Run `validate`, `plan`, `run --simulate` and a real `run` against `sim` on `manifest`.

    Each must exit 2 without a traceback, print every one of `messages` as a whole line,
    create no output folder, and send nothing. Returns what `validate` printed.
    """
    out = manifest.parent / "out"
    printed = ""
    for args in (
        ["validate"],
        ["plan", "--out", str(out)],
        ["run", "--simulate", "--quiet", "--out", str(out), "--gen-seconds", "0.1"],
    ):
        result = run_line(args[0], str(manifest), *args[1:])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        lines = result.output.splitlines()
        for message in messages:
            assert message in lines, f"{message!r} not among:\n{result.output}"
        assert lines[-1].endswith("nothing was sent."), result.output
        printed = printed or result.output
    real = sim.run(manifest, "--out", str(out))
    assert real.exit_code == 2, real.output
    assert not out.exists(), "a refused manifest must write nothing"
    stats = sim.stats()
    assert (stats["submitted"], stats["polls"], stats["downloads"]) == (0, 0, 0)
    return printed
