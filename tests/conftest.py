"""Shared fixtures: a clean environment (no real keys) and simulators in threads.
Helpers live in `tests/helpers/`."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER
from tests.helpers.sim import SimThread


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test can read a real API key from the machine it runs on."""
    for caps in CAPABILITIES_BY_PROVIDER.values():
        monkeypatch.delenv(caps.key_env_var, raising=False)
    yield


@pytest.fixture
def sim_server() -> Iterator[Callable[..., SimThread]]:
    """Start simulators with `SimConfig` fields; all are stopped after the test."""
    started: list[SimThread] = []

    def start(**settings: object) -> SimThread:
        settings.setdefault("gen_seconds", 0.2)
        settings.setdefault("seed", 11)
        server = SimThread(**settings)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()
