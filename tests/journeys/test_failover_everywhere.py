"""Failover works from every one of the seven providers to any other that sells the model:
a provider out of balance hands its jobs on, whatever protocol either side speaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from hailuo_batch import api
from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER
from hailuo_batch.store.fold import load_state

PROVIDERS = list(CAPABILITIES_BY_PROVIDER)


@pytest.mark.parametrize("primary", PROVIDERS)
def test_a_provider_out_of_balance_hands_every_job_to_the_next(
    primary: str, tmp_path: Path
) -> None:
    fallback = PROVIDERS[(PROVIDERS.index(primary) + 1) % len(PROVIDERS)]
    manifest = {
        "version": 1,
        "provider": [primary, fallback],
        "model": "hailuo-2.3",
        "jobs": [{"matrix": {"prompt": ["a fox in the snow", "a koi pond", "a lighthouse"]}}],
    }
    summary = api.run(
        manifest,
        tmp_path / "out",
        simulate=True,
        sim_options={"gen_seconds": 0.2, "outages": {primary: "balance"}},
    )
    assert summary.exit_code == 0, summary
    [down] = summary.out_of_service
    assert down.provider == primary and down.moved == 3
    records = load_state(tmp_path / "out").jobs.values()
    assert {(rec.state, rec.provider) for rec in records} == {("done", fallback)}
    assert any(primary in rec.providers_tried for rec in records)  # it was tried first
