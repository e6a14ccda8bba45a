"""AI/ML API's current and legacy video endpoints as the simulator serves them."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from simwire import AUTH, KEY, Client, Sim, data_uri, download, probe, stats, wait_for

CURRENT = "/aimlapi/v2/video/generations"
LEGACY = "/aimlapi/v2/generate/video/minimax/generation"
MODEL = "minimax/hailuo-02"


async def submit(client: Client, body: dict[str, Any], path: str = CURRENT) -> str:
    response = await client.post(path, json=body, headers=AUTH)
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert answer["status"] == "queued" and isinstance(answer["generation_id"], str)
    generation_id: str = answer["generation_id"]
    return generation_id


async def fetch(client: Client, generation_id: str, path: str = CURRENT) -> dict[str, Any]:
    response = await client.get(path, params={"generation_id": generation_id}, headers=AUTH)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def until_done(
    client: Client, generation_id: str, path: str = CURRENT
) -> list[dict[str, Any]]:
    return await wait_for(
        lambda: fetch(client, generation_id, path), lambda b: b["status"] in ("completed", "error")
    )


async def test_current_endpoint_round_trip(sim: Sim) -> None:
    """Ids carry the `:<model>` suffix; statuses stay within what the SDK polls on."""
    client = await sim()
    generation_id = await submit(client, {"model": MODEL, "prompt": "koi at dawn"})
    assert generation_id.endswith(f":{MODEL}") and generation_id.split(":")[0].isdigit()
    answers = await until_done(client, generation_id)
    assert {a["status"] for a in answers} <= {"queued", "generating", "completed"}
    assert all(a["video"] is None for a in answers[:-1])
    final = answers[-1]
    assert final["id"] == generation_id and final["error"] is None
    url = final["video"]["url"]
    expires = int(parse_qs(urlsplit(url).query)["Expires"][0])
    status, content_type, data = await download(client, url)
    assert (status, content_type) == (200, "video/mp4")
    facts = probe(data)
    assert (facts.codec, facts.width, facts.height) == ("h264", 1366, 768)
    assert facts.duration == pytest.approx(6.0, abs=0.05)
    assert expires > 0 and final["meta"]["usage"]["credits_used"] > 0


async def test_legacy_endpoint_with_a_portrait_first_frame(sim: Sim) -> None:
    client = await sim()
    body = {"model": MODEL, "prompt": "p", "first_frame_image": data_uri(720, 1280, "JPEG")}
    generation_id = await submit(client, body, LEGACY)
    assert generation_id.isdigit()
    final = (await until_done(client, generation_id, LEGACY))[-1]
    facts = probe((await download(client, final["video"]["url"]))[2])
    assert (facts.width, facts.height) == (768, 1366)


async def test_video01_is_720p(sim: Sim) -> None:
    client = await sim()
    final = (await until_done(client, await submit(client, {"model": "video-01", "prompt": "p"})))[
        -1
    ]
    facts = probe((await download(client, final["video"]["url"]))[2])
    assert (facts.width, facts.height, round(facts.duration)) == (1280, 720, 6)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            {"model": MODEL, "prompt": "p", "resolution": "512P"},
            "Invalid enum value. Expected '768P' | '1080P', received '512P'",
        ),
        ({"model": MODEL, "prompt": "p", "duration": 8}, "Expected 6 | 10, received 8"),
        ({"model": MODEL, "prompt": "p", "resolution": "1080P", "duration": 10}, "6-second"),
        ({"model": MODEL, "prompt": "x" * 2001}, "at most 2000 character(s)"),
        ({"model": MODEL}, "prompt: Required"),
        ({"prompt": "p"}, "model: Required"),
        ({"model": "minimax/hailuo-99", "prompt": "p"}, "received 'minimax/hailuo-99'"),
        (
            {"model": MODEL, "prompt": "p", "enhance_prompt": "yes"},
            "Expected boolean, received string",
        ),
        ({"model": MODEL, "prompt": "p", "last_image_url": "https://e.x/l.png"}, "image_url"),
    ],
)
async def test_bad_parameters_get_400_in_the_generic_envelope(
    sim: Sim, body: dict[str, Any], needle: str
) -> None:
    client = await sim()
    response = await client.post(CURRENT, json=body, headers=AUTH)
    assert response.status == 400
    answer = await response.json()
    assert set(answer) == {"message", "path", "requestId", "statusCode", "timestamp"}
    assert answer["statusCode"] == 400 and answer["path"] == "/v2/video/generations"
    assert needle in answer["message"]
    assert (await stats(client))["submitted"] == 0


async def test_keys_and_unknown_ids(sim: Sim) -> None:
    client = await sim(valid_keys={"aimlapi": KEY})
    body = {"model": MODEL, "prompt": "p"}
    missing = await client.post(CURRENT, json=body)
    wrong = await client.post(CURRENT, json=body, headers={"Authorization": "Bearer x"})
    unknown = await client.get(CURRENT, params={"generation_id": "42"}, headers=AUTH)
    no_id = await client.get(CURRENT, headers=AUTH)
    for response, status in ((missing, 401), (wrong, 401), (unknown, 404), (no_id, 400)):
        assert response.status == status
        assert (await response.json())["statusCode"] == status


@pytest.mark.parametrize(("outage", "status"), [("balance", 403), ("auth", 401), ("down", 503)])
async def test_outages(sim: Sim, outage: str, status: int) -> None:
    client = await sim(outages={"aimlapi": outage})
    for path in (CURRENT, LEGACY):
        response = await client.post(path, json={"model": MODEL, "prompt": "p"}, headers=AUTH)
        assert response.status == status
        assert (await response.json())["statusCode"] == status


async def test_failed_generation_has_an_error_object(sim: Sim) -> None:
    client = await sim(task_failure_rate=1.0)
    final = (await until_done(client, await submit(client, {"model": MODEL, "prompt": "p"})))[-1]
    assert final["status"] == "error" and final["video"] is None
    assert set(final["error"]) == {"name", "message"}


async def test_current_submit_answers_id_and_generation_id(sim: Sim) -> None:
    """The current OpenAPI answers the poll schema (`id`); examples read `generation_id`."""
    client = await sim()
    response = await client.post(CURRENT, json={"model": MODEL, "prompt": "p"}, headers=AUTH)
    answer = await response.json()
    assert answer["id"] == answer["generation_id"] and answer["status"] == "queued"
    legacy = await client.post(LEGACY, json={"model": MODEL, "prompt": "p"}, headers=AUTH)
    assert "id" not in await legacy.json()


@pytest.mark.parametrize(
    ("model", "credits"), [("minimax/hailuo-2.3", 588_000), ("minimax/hailuo-2.3-fast", 399_000)]
)
async def test_hailuo_23_costs_what_the_documented_samples_cost(
    sim: Sim, model: str, credits: int
) -> None:
    """6 s at 768P, priced as AIMLAPI's 2025-12-29 samples; the usage comes at submit too."""
    client = await sim()
    body = {"model": model, "prompt": "p", "image_url": data_uri(1280, 720)}
    response = await client.post(CURRENT, json=body, headers=AUTH)
    submitted = await response.json()
    assert submitted["meta"]["usage"] == {"credits_used": credits}
    final = (await until_done(client, submitted["id"]))[-1]
    assert final["meta"]["usage"] == {"credits_used": credits}
    facts = probe((await download(client, final["video"]["url"]))[2])
    assert (facts.width, facts.height, round(facts.duration)) == (1366, 768, 6)


@pytest.mark.parametrize("model", ["minimax/hailuo-2.3-fast", "video-01-live2d"])
async def test_image_only_models_require_image_url(sim: Sim, model: str) -> None:
    client = await sim()
    response = await client.post(CURRENT, json={"model": model, "prompt": "p"}, headers=AUTH)
    assert response.status == 400
    assert "image_url: Required" in (await response.json())["message"]


async def test_live2d_is_six_seconds_at_720p_following_its_image(sim: Sim) -> None:
    client = await sim()
    body = {"model": "video-01-live2d", "prompt": "p", "image_url": data_uri(720, 1280)}
    final = (await until_done(client, await submit(client, body)))[-1]
    facts = probe((await download(client, final["video"]["url"]))[2])
    assert (facts.width, facts.height, round(facts.duration)) == (720, 1280, 6)


H3 = "minimax/h3"
URL = "https://example.com/ref.jpg"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"resolution": "768P"}, "Invalid enum value. Expected '2K', received '768P'"),
        ({"duration": 3}, "duration"),
        ({"duration": 16}, "duration"),
        ({"prompt": "x" * 7001}, "at most 7000 character(s)"),
        ({"ratio": "2:1"}, "ratio"),
        ({"reference_image_urls": [URL] * 10}, "at most 9 items"),
        ({"video_urls": ["https://e.x/v.mp4"] * 4}, "at most 3 items"),
        ({"audio_urls": ["https://e.x/a.mp3"]}, "needs a reference image or video"),
        ({"image_url": URL, "reference_image_urls": [URL]}, "cannot be combined"),
        ({"video_urls": [data_uri(400, 400)]}, "public http(s) URL"),
        ({"reference_image_urls": URL}, "Expected array, received string"),
    ],
)
async def test_h3_checks_its_flat_fields(sim: Sim, body: dict[str, Any], needle: str) -> None:
    """`minimax/h3.json`: 2K only, 4-15 s, a ratio enum, capped reference lists, audio only
    beside an image or video, frames never with references, a 7000-character prompt."""
    client = await sim()
    response = await client.post(CURRENT, json={"model": H3, "prompt": "p", **body}, headers=AUTH)
    assert response.status == 400
    assert needle in (await response.json())["message"]
    assert (await stats(client))["submitted"] == 0


async def test_h3_is_not_on_the_legacy_endpoint(sim: Sim) -> None:
    client = await sim()
    response = await client.post(LEGACY, json={"model": H3, "prompt": "p"}, headers=AUTH)
    assert response.status == 400
    assert "received 'minimax/h3'" in (await response.json())["message"]
