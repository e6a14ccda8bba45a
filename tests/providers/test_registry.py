"""The provider registry, the protocol every adapter meets, and fixture hygiene."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER
from hailuo_batch.core.http import HttpResponse, TaskStatus
from hailuo_batch.providers import ADAPTER_BY_PROVIDER, TaskFinder, make_provider

FIXTURES = Path(__file__).parent / "fixtures"


def test_every_provider_in_the_capability_table_has_an_adapter() -> None:
    assert set(ADAPTER_BY_PROVIDER) == set(CAPABILITIES_BY_PROVIDER)


@pytest.mark.parametrize("name", sorted(ADAPTER_BY_PROVIDER))
def test_make_provider(name: str, api_key: str) -> None:
    provider = make_provider(name, api_key)
    assert provider.name == name
    assert provider.capabilities is CAPABILITIES_BY_PROVIDER[name]
    assert provider.poll_request("t1").url.startswith(CAPABILITIES_BY_PROVIDER[name].base_url)


def test_unknown_provider_names_the_known_ones(api_key: str) -> None:
    with pytest.raises(ValueError, match="novita"):
        make_provider("nonesuch", api_key)


@pytest.mark.parametrize("name", sorted(ADAPTER_BY_PROVIDER))
def test_task_listing_matches_capabilities(name: str, api_key: str) -> None:
    """Only adapters whose capabilities name a list grace offer reconciliation."""
    provider = make_provider(name, api_key)
    listed = CAPABILITIES_BY_PROVIDER[name].list_grace is not None
    assert isinstance(provider, TaskFinder) == listed


@pytest.mark.parametrize("name", ["novita", "gmi", "aimlapi", "replicate"])
def test_two_step_adapters_have_no_retrieve(name: str, api_key: str) -> None:
    provider = make_provider(name, api_key)
    assert provider.retrieve_request(TaskStatus("finalizing", "x", file_id="1")) is None
    with pytest.raises(RuntimeError):
        provider.parse_retrieve(HttpResponse(200, b"{}"))


def test_fixtures_hold_no_secrets() -> None:
    """Recorded bodies are scrubbed: no bearer tokens, key-shaped strings or signatures."""
    leaks = re.compile(r"Bearer |sk-[A-Za-z0-9]{8,}|Signature=(?!REDACTED)|q-signature=[0-9a-f]")
    dirty = [p.name for p in FIXTURES.rglob("*.json") if leaks.search(p.read_text())]
    assert dirty == []
