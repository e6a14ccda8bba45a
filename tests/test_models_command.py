"""`hailuo-batch models`: the capability and price tables as a person choosing reads them."""

from __future__ import annotations

import json

from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER, MODEL_RULES, sellers
from hailuo_batch.core.jobs import VideoRequest
from tests.helpers.cli import run_line


def test_models_json_lists_every_offer_of_the_table() -> None:
    result = run_line("models", "--json")
    assert result.exit_code == 0
    listed = {
        (sale["provider"], entry["model"])
        for entry in json.loads(result.output)
        for sale in entry["providers"]
    }
    offered = {
        (name, model) for name, caps in CAPABILITIES_BY_PROVIDER.items() for model in caps.offers
    }
    assert listed == offered


def test_every_seller_of_a_default_request_is_listed_for_its_model() -> None:
    """What `models` says is what routing does: whoever can take a job is listed."""
    entries = {entry["model"]: entry for entry in json.loads(run_line("models", "--json").output)}
    for model, rules in MODEL_RULES.items():
        if rules.image == "required" or rules.subject:
            continue  # needs a picture; the table's offers cover it above
        request = VideoRequest(model, "a fox", rules.default_duration, rules.default_resolution)
        listed = {sale["provider"] for sale in entries[model]["providers"]}
        assert set(sellers(request)) <= listed, model


def test_a_published_price_is_shown_with_its_source() -> None:
    result = run_line("models", "hailuo-02", "--provider", "fal")
    assert result.exit_code == 0
    assert "fal" in result.output and "6s-768P $0.27" in result.output
    [entry] = json.loads(run_line("models", "hailuo-02", "--provider", "fal", "--json").output)
    [sale] = entry["providers"]
    assert sale["prices_usd"]["6s-768P"] == 0.27
    assert "seen 2026-11-29, confidence H" in sale["price_source"]
    assert sale["key_env_var"] == "FAL_KEY"


def test_an_unknown_model_or_provider_is_refused_with_the_names_to_use() -> None:
    result = run_line("models", "hailuo-99")
    assert result.exit_code == 2
    assert "no model 'hailuo-99'" in result.output and "hailuo-2.3-fast" in result.output
    result = run_line("models", "t2v-01-director", "--provider", "gmi")
    assert result.exit_code == 2 and "sells none" in result.output
