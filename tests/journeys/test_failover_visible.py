"""Journey 10: the primary provider runs out of balance overnight and everything moves to
the next one. The run's output, `status` (text and JSON) and the report all say which
provider was taken out of service, why, and how many jobs moved."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.helpers.cli import finish, run_line, write_manifest
from tests.helpers.sim import SimThread


def test_failover_is_shown_everywhere_a_nightly_user_looks(
    tmp_path: Path, sim_server: Callable[..., SimThread]
) -> None:
    sim = sim_server(outages={"novita": "balance"})
    manifest = write_manifest(tmp_path, 5, provider="[novita, aimlapi]")
    child = sim.spawn(manifest, providers=("novita", "aimlapi"))
    output = finish(child)  # plain lines: stderr is not a terminal here
    assert child.returncode == 0, output
    assert "out of service: novita is out of balance" in output
    assert "(5 job(s) moved on)" in output  # the summary line of a nightly log

    out = tmp_path / "out"
    text = run_line("status", str(out)).output
    assert "out of service in the last run: novita is out of balance" in text
    assert "(5 job(s) moved on)" in text
    [down] = json.loads(run_line("status", str(out), "--json").stdout)["out_of_service"]
    assert (down["provider"], down["moved"]) == ("novita", 5)
    assert "out of balance" in down["reason"]
    page = (out / "report.html").read_text()
    assert 'data-provider="novita"' in page and "was taken out of service" in page
