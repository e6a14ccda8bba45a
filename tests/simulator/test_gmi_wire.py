"""GMI Cloud's request queue as the simulator serves it."""

from __future__ import annotations

from typing import Any

import pytest
from simwire import AUTH, KEY, Client, ManualClock, Sim, data_uri, download, probe, stats, wait_for

BASE = "/gmi/api/v1/ie/requestqueue/apikey"
MODEL = "Minimax-Hailuo-02"


async def submit(client: Client, payload: dict[str, Any], model: str = MODEL) -> dict[str, Any]:
    response = await client.post(
        f"{BASE}/requests", json={"model": model, "payload": payload}, headers=AUTH
    )
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def detail(client: Client, request_id: str) -> dict[str, Any]:
    response = await client.get(f"{BASE}/requests/{request_id}", headers=AUTH)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def until_done(client: Client, request_id: str) -> list[dict[str, Any]]:
    return await wait_for(
        lambda: detail(client, request_id), lambda b: b["status"] in ("success", "failed")
    )


async def test_round_trip_gives_the_requested_mp4(sim: Sim) -> None:
    """Submit answers integer timestamps; the outcome's media URL is a real 6 s 768P MP4."""
    client = await sim()
    payload = {"prompt": "a red fox", "duration": 6, "resolution": "768P"}
    submitted = await submit(client, payload)
    assert set(submitted) == {
        "request_id",
        "model",
        "status",
        "created_at",
        "updated_at",
        "queued_at",
    }
    assert submitted["status"] == "queued" and submitted["model"] == MODEL
    assert all(isinstance(submitted[k], int) for k in ("created_at", "updated_at", "queued_at"))
    answers = await until_done(client, submitted["request_id"])
    assert {a["status"] for a in answers} <= {"queued", "dispatched", "processing", "success"}
    assert all(a["outcome"] is None for a in answers[:-1])
    final = answers[-1]
    assert final["payload"] == payload and final["is_public"] is False
    assert isinstance(final["updated_at"], int) and final["org_id"]
    (media,) = final["outcome"]["media_urls"]
    assert media["id"] == "0" and "X-Goog-Expires=3600" in media["url"]
    status, content_type, data = await download(client, media["url"])
    assert (status, content_type) == (200, "video/mp4")
    facts = probe(data)
    assert (facts.codec, facts.width, facts.height) == ("h264", 1366, 768)
    assert facts.duration == pytest.approx(6.0, abs=0.05)


async def test_512p_follows_a_portrait_first_frame(sim: Sim) -> None:
    client = await sim()
    payload = {"prompt": "p", "resolution": "512P", "first_frame_image": data_uri(720, 1280)}
    final = (await until_done(client, (await submit(client, payload))["request_id"]))[-1]
    facts = probe((await download(client, final["outcome"]["media_urls"][0]["url"]))[2])
    assert (facts.width, facts.height) == (512, 910)


async def test_status_goes_queued_dispatched_processing_success(sim: Sim) -> None:
    clock = ManualClock()
    client = await sim(clock=clock, max_concurrent=1, gen_seconds=100)
    await submit(client, {"prompt": "first"})
    request_id = (await submit(client, {"prompt": "second"}))["request_id"]
    seen = [(await detail(client, request_id))["status"]]
    while seen[-1] != "success":
        clock.advance(2)
        status = (await detail(client, request_id))["status"]
        if status != seen[-1]:
            seen.append(status)
    assert seen == ["queued", "dispatched", "processing", "success"]


async def test_list_requests_and_models(sim: Sim) -> None:
    client = await sim()
    await submit(client, {"prompt": "a"})
    await submit(client, {"prompt": "b"}, model="Minimax-Hailuo-2.3")
    listed = await (
        await client.get(f"{BASE}/requests", params={"model_id": MODEL}, headers=AUTH)
    ).json()
    assert listed["total"] == 1 and listed["requests"][0]["payload"] == {"prompt": "a"}
    everything = await (await client.get(f"{BASE}/requests", headers=AUTH)).json()
    assert [r["payload"]["prompt"] for r in everything["requests"]] == ["b", "a"]
    models = await (await client.get(f"{BASE}/models", headers=AUTH)).json()
    assert MODEL in models["model_ids"]
    assert MODEL in [m["model_id"] for m in models["models"]]
    info = await client.get(f"{BASE}/models/{MODEL}", headers=AUTH)
    assert (await info.json())["model"] == MODEL
    missing = await client.get(f"{BASE}/models/Nope-1", headers=AUTH)
    assert missing.status == 404 and "error" in await missing.json()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"model": MODEL, "payload": {"prompt": "p", "resolution": "512P"}}, "512P"),
        (
            {"model": MODEL, "payload": {"prompt": "p", "resolution": "1080P", "duration": 10}},
            "10s",
        ),
        ({"model": MODEL, "payload": {"prompt": "p", "duration": 7}}, "duration"),
        ({"model": MODEL, "payload": {"duration": 6}}, "prompt"),
        ({"model": MODEL, "payload": "prompt=p"}, "payload"),
        ({"model": "Minimax-Hailuo-99", "payload": {"prompt": "p"}}, "model"),
        ({"model": "Minimax-Hailuo-2.3-Fast", "payload": {"prompt": "p"}}, "first_frame_image"),
    ],
)
async def test_bad_parameters_get_400_with_an_error_string(
    sim: Sim, body: dict[str, Any], needle: str
) -> None:
    client = await sim()
    response = await client.post(f"{BASE}/requests", json=body, headers=AUTH)
    assert response.status == 400 and response.content_type == "application/json"
    answer = await response.json()
    assert set(answer) == {"error"} and needle in answer["error"]
    assert (await stats(client))["submitted"] == 0


async def test_keys_unknown_ids_and_outages(sim: Sim) -> None:
    client = await sim(valid_keys={"gmi": KEY})
    body = {"model": MODEL, "payload": {"prompt": "p"}}
    missing = await client.post(f"{BASE}/requests", json=body)
    wrong = await client.post(f"{BASE}/requests", json=body, headers={"Authorization": "Bearer x"})
    unknown = await client.get(
        f"{BASE}/requests/5c30b275-d669-4a25-8151-de6d60214853", headers=AUTH
    )
    for response, status in ((missing, 401), (wrong, 401), (unknown, 404)):
        assert response.status == status
        assert set(await response.json()) == {"error"}


@pytest.mark.parametrize(("outage", "status"), [("balance", 402), ("auth", 401), ("down", 503)])
async def test_outages(sim: Sim, outage: str, status: int) -> None:
    client = await sim(outages={"gmi": outage})
    response = await client.post(
        f"{BASE}/requests", json={"model": MODEL, "payload": {"prompt": "p"}}, headers=AUTH
    )
    assert response.status == status
    answer = await response.json()
    assert set(answer) == {"error"}
    if outage == "balance":
        assert answer["error"] == "insufficient balance"


async def test_failed_request_has_an_error_string(sim: Sim) -> None:
    client = await sim(task_failure_rate=1.0)
    final = (await until_done(client, (await submit(client, {"prompt": "p"}))["request_id"]))[-1]
    assert final["status"] == "failed" and final["error"] and final["outcome"] is None


@pytest.mark.parametrize("model", ["Minimax-Hailuo-02", "Minimax-Hailuo-2.3", "MiniMax-H3"])
async def test_model_detail_is_what_the_sdk_reads(sim: Sim, model: str) -> None:
    """gmicloud's `GetModelResponse`: `model`, typed `price_info`, a `host_type` of its enum,
    the payload's parameter names; `model_id` as the API-key docs name it, leniently."""
    client = await sim()
    info = await (await client.get(f"{BASE}/models/{model}", headers=AUTH)).json()
    assert info["model"] == info["model_id"] == model
    price = info["price_info"]
    assert set(price) == {"price", "pricing_type", "unit"}
    assert isinstance(price["price"], int) and isinstance(price["unit"], str)
    assert info["host_type"] in ("", "internal", "external")
    assert all(isinstance(info[k], int) for k in ("created_at", "updated_at", "qworkers"))
    names = {parameter["name"] for parameter in info["parameters"]}
    assert "prompt" in names and ("ratio" in names) == (model == "MiniMax-H3")
    listed = await (await client.get(f"{BASE}/models", headers=AUTH)).json()
    assert model in listed["model_ids"]


async def test_hailuo_23_fast_round_trip_follows_its_first_frame(sim: Sim) -> None:
    client = await sim()
    payload = {"prompt": "p", "first_frame_image": data_uri(720, 1280), "duration": 10}
    submitted = await submit(client, payload, model="Minimax-Hailuo-2.3-Fast")
    final = (await until_done(client, submitted["request_id"]))[-1]
    assert final["model"] == "Minimax-Hailuo-2.3-Fast" and final["payload"] == payload
    facts = probe((await download(client, final["outcome"]["media_urls"][0]["url"]))[2])
    assert (facts.width, facts.height) == (768, 1366)
    assert facts.duration == pytest.approx(10.0, abs=0.05)


H3 = "MiniMax-H3"


@pytest.mark.parametrize(
    ("payload", "size"),
    [
        ({"prompt": "p", "ratio": "9:16", "duration": 4}, (768, 1366)),
        ({"prompt": "p"}, (1366, 768)),  # no frame, no ratio: 16:9
        ({"prompt": "p", "ratio": "1:1", "first_frame_image": data_uri(720, 1280)}, (768, 1366)),
        ({"prompt": "p", "last_frame_image": "https://example.com/end.jpg"}, (1366, 768)),
        ({"prompt": "p", "reference_images": [data_uri(720, 1280)]}, (768, 1366)),
    ],
)
async def test_h3_round_trip_takes_its_shape_from_frames_then_ratio(
    sim: Sim, payload: dict[str, Any], size: tuple[int, int]
) -> None:
    """A frame decides the shape (a ratio is then ignored, as `adaptive`); else the ratio,
    else a reference image, else 16:9. The payload is echoed for the request list."""
    client = await sim()
    payload = {**payload, "resolution": "768P"}
    submitted = await submit(client, payload, model=H3)
    final = (await until_done(client, submitted["request_id"]))[-1]
    assert final["model"] == H3 and final["payload"] == payload
    facts = probe((await download(client, final["outcome"]["media_urls"][0]["url"]))[2])
    assert (facts.width, facts.height) == size
    assert facts.duration == pytest.approx(payload.get("duration", 6), abs=0.05)


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"resolution": "1080P"}, "resolution"),
        ({"duration": 16}, "duration"),
        ({"prompt": "x" * 7001}, "7000"),
        ({"reference_images": ["https://e.x/a.jpg"] * 10}, "at most 9"),
        ({"reference_audios": ["https://e.x/a.wav"] * 4}, "at most 3"),
        ({"reference_audios": ["https://e.x/a.wav"]}, "reference image or video"),
        (
            {"first_frame_image": "https://e.x/a.jpg", "reference_videos": ["https://e.x/v.mp4"]},
            "cannot be combined",
        ),
        ({"reference_videos": "https://e.x/v.mp4"}, "array"),
    ],
)
async def test_h3_refuses_what_the_model_does_not_take(
    sim: Sim, payload: dict[str, Any], needle: str
) -> None:
    client = await sim()
    body = {"model": H3, "payload": {"prompt": "p", **payload}}
    response = await client.post(f"{BASE}/requests", json=body, headers=AUTH)
    assert response.status == 400
    assert needle in (await response.json())["error"]
    assert (await stats(client))["submitted"] == 0
