"""Shared fixtures: a clean environment (no real keys) and simulators in threads.
Helpers live in `tests/helpers/`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from jsonschema import Draft202012Validator

from hailuo_batch.core import schemas
from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER
from hailuo_batch.core.layout import LOCKFILE
from tests.helpers.sim import SimThread


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test can read a real API key from the machine it runs on."""
    for caps in CAPABILITIES_BY_PROVIDER.values():
        monkeypatch.delenv(caps.key_env_var, raising=False)
    yield


@pytest.fixture(autouse=True)
def locks_follow_their_schema(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every lockfile a test leaves in its tmp_path validates against
    schemas/lockfile.schema.json: a change to the lock's shape is caught here."""
    yield
    folder = request.node.funcargs.get("tmp_path")
    if folder is None:
        return
    for lock in Path(folder).rglob(LOCKFILE):
        problems = [
            e.message for e in _lock_validator().iter_errors(orjson.loads(lock.read_bytes()))
        ]
        assert not problems, f"{lock} does not follow lockfile.schema.json: {problems[:3]}"


@functools.cache
def _lock_validator() -> Draft202012Validator:
    return Draft202012Validator(schemas.load("lockfile.schema.json"))


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
