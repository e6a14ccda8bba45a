"""Replicate's predictions API as the simulator serves it, in raw HTTP."""

from __future__ import annotations

import time
from typing import Any

import pytest
from simwire import (
    AUTH,
    KEY,
    Client,
    ManualClock,
    Sim,
    data_uri,
    download,
    probe,
    stats,
    wait_for,
)

API = "/replicate/v1"
ENDED = {"succeeded", "failed", "canceled"}


def create_path(model: str) -> str:
    return f"{API}/models/minimax/{model}/predictions"


async def create(
    client: Client, fields: dict[str, Any], model: str = "hailuo-02", **headers: str
) -> dict[str, Any]:
    response = await client.post(
        create_path(model), json={"input": fields}, headers={**AUTH, **headers}
    )
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def get(client: Client, prediction_id: str) -> dict[str, Any]:
    response = await client.get(f"{API}/predictions/{prediction_id}", headers=AUTH)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def until_ended(client: Client, prediction_id: str) -> list[dict[str, Any]]:
    return await wait_for(lambda: get(client, prediction_id), lambda p: p["status"] in ENDED)


async def video_size(client: Client, prediction: dict[str, Any]) -> tuple[int, int, float]:
    status, content_type, data = await download(client, prediction["output"])
    assert (status, content_type) == (200, "video/mp4")
    facts = probe(data)
    return facts.width, facts.height, round(facts.duration)


async def test_round_trip_gives_the_requested_mp4(sim: Sim) -> None:
    """201 `starting` with the input echoed; then processing, succeeded, a 768p 10 s MP4."""
    client = await sim()
    fields = {"prompt": "a red fox", "duration": 10, "resolution": "768p"}
    created = await create(client, fields)
    assert set(created) == {
        "id", "model", "version", "input", "logs", "output", "data_removed", "error",
        "status", "created_at", "urls",
    }  # fmt: skip
    assert (created["status"], created["model"], created["version"]) == (
        "starting",
        "minimax/hailuo-02",
        "hidden",
    )
    assert created["input"] == fields and created["output"] is None
    assert len(created["id"]) == 26 and created["id"].isalnum()
    get_url = created["urls"]["get"]
    assert get_url.endswith(f"{API}/predictions/{created['id']}")
    assert created["urls"]["cancel"] == f"{get_url}/cancel"
    answers = await until_ended(client, created["id"])
    assert {a["status"] for a in answers} <= {"starting", "processing", "succeeded"}
    final = answers[-1]
    assert final["status"] == "succeeded" and final["error"] is None
    assert "/replicate/delivery/xezq/" in final["output"]
    assert final["output"].endswith("/output.mp4")
    assert final["created_at"] <= final["started_at"] <= final["completed_at"]
    assert final["completed_at"].endswith("Z")
    assert set(final["metrics"]) == {"predict_time", "total_time"}
    assert await video_size(client, final) == (1366, 768, 10)


@pytest.mark.parametrize(
    ("model", "fields", "size"),
    [
        ("hailuo-02", {}, (1920, 1080)),  # the version page's default: 1080p
        ("hailuo-02", {"resolution": "512p", "first_frame_image": data_uri(720, 1280)}, (512, 910)),
        ("hailuo-2.3", {}, (1366, 768)),
        ("video-01", {}, (1280, 720)),
        ("video-01", {"subject_reference": data_uri(640, 640)}, (1280, 720)),
        ("video-01-director", {"first_frame_image": data_uri(720, 1280)}, (720, 1280)),
        ("video-01-live", {"first_frame_image": "https://example.com/a.jpg"}, (1280, 720)),
    ],
)
async def test_each_model_makes_its_size(
    sim: Sim, model: str, fields: dict[str, Any], size: tuple[int, int]
) -> None:
    """Defaults as each version page gives them; a first frame's aspect is kept."""
    client = await sim()
    created = await create(client, {"prompt": "p", **fields}, model)
    assert created["model"] == f"minimax/{model}"
    final = (await until_ended(client, created["id"]))[-1]
    assert await video_size(client, final) == (*size, 6)


async def test_status_goes_starting_processing_succeeded(sim: Sim) -> None:
    clock = ManualClock()
    client = await sim(clock=clock, max_concurrent=1, gen_seconds=100)
    await create(client, {"prompt": "first"})
    prediction_id = (await create(client, {"prompt": "second"}))["id"]
    seen = [(await get(client, prediction_id))["status"]]
    while seen[-1] != "succeeded":
        clock.advance(10)
        status = (await get(client, prediction_id))["status"]
        if status != seen[-1]:
            seen.append(status)
    assert seen == ["starting", "processing", "succeeded"]


ENUM = 'resolution must be one of the following: "512p", "768p", "1080p"'


@pytest.mark.parametrize(
    ("body", "field", "kind", "description"),
    [
        ({"input": {"prompt": "p", "resolution": "768P"}}, "input.resolution", "enum", ENUM),
        (
            {"input": {"prompt": "p", "duration": 10}},
            "input.duration",
            "invalid",
            "10 seconds is only available for 768p resolution",
        ),
        (
            {"input": {"prompt": "p", "duration": "6"}},
            "input.duration",
            "enum",
            "duration must be one of the following: 6, 10",
        ),
        (
            {"input": {"prompt": "p", "prompt_optimizer": 1}},
            "input.prompt_optimizer",
            "invalid_type",
            "Invalid type. Expected: boolean, given: integer",
        ),
        ({"input": {"duration": 6}}, "input", "required", "prompt is required"),
        (
            {"input": {"prompt": "x" * 2001}},
            "input.prompt",
            "string_lte",
            "String length must be less than or equal to 2000",
        ),
        (
            {"input": {"prompt": "p", "first_frame_image": "ftp://a"}},
            "input.first_frame_image",
            "invalid",
            "must be a public URL or a data URI",
        ),
        (
            {"inptu": {"prompt": "p"}},
            "",
            "additional_property_not_allowed",
            "Additional property inptu is not allowed",
        ),
        ({}, "", "required", "input is required"),
        (
            {"input": "prompt=p"},
            "input",
            "invalid_type",
            "Invalid type. Expected: object, given: string",
        ),
    ],
)
async def test_bad_input_is_a_422_problem(
    sim: Sim, body: dict[str, Any], field: str, kind: str, description: str
) -> None:
    """RFC 7807 with `invalid_fields` items `{type, field, description}`; nothing is created."""
    client = await sim()
    response = await client.post(create_path("hailuo-02"), json=body, headers=AUTH)
    assert response.status == 422 and response.content_type == "application/json"
    problem = await response.json()
    assert set(problem) == {"title", "detail", "status", "invalid_fields"}
    assert problem["status"] == 422
    (item,) = problem["invalid_fields"]
    assert (item["field"], item["type"]) == (field, kind)
    assert item["description"].startswith(description)
    assert item["description"] in problem["detail"]
    counted = await stats(client)
    assert (counted["submitted"], counted["refused"]) == (0, 1)


async def test_video_01_live_needs_a_first_frame_and_2_3_has_no_512p(sim: Sim) -> None:
    client = await sim()
    live = await client.post(
        create_path("video-01-live"), json={"input": {"prompt": "p"}}, headers=AUTH
    )
    low = await client.post(
        create_path("hailuo-2.3"),
        json={"input": {"prompt": "p", "resolution": "512p"}},
        headers=AUTH,
    )
    assert (live.status, low.status) == (422, 422)
    assert (await live.json())["invalid_fields"][0][
        "description"
    ] == "first_frame_image is required"
    assert "768p" in (await low.json())["detail"]


async def test_a_model_not_hosted_is_a_404_problem(sim: Sim) -> None:
    client = await sim()
    response = await client.post(create_path("h3"), json={"input": {"prompt": "p"}}, headers=AUTH)
    assert response.status == 404
    assert (await response.json())["status"] == 404
    assert (await stats(client))["refused"] == 1


async def test_keys_and_unknown_ids(sim: Sim) -> None:
    client = await sim(valid_keys={"replicate": KEY})
    body = {"input": {"prompt": "p"}}
    missing = await client.post(create_path("hailuo-02"), json=body)
    wrong = await client.post(
        create_path("hailuo-02"), json=body, headers={"Authorization": "Bearer x"}
    )
    unknown = await client.get(f"{API}/predictions/x18c1re8mxrma0crb3x8wbwqmg", headers=AUTH)
    assert [r.status for r in (missing, wrong, unknown)] == [401, 401, 404]
    assert await missing.json() == {
        "title": "Unauthenticated",
        "detail": "You did not pass an authentication token",
        "status": 401,
    }
    assert (await wrong.json())["detail"] == "You did not pass a valid authentication token"
    assert set(await unknown.json()) == {"title", "detail", "status"}


@pytest.mark.parametrize(("outage", "status"), [("balance", 402), ("auth", 401), ("down", 503)])
async def test_outages(sim: Sim, outage: str, status: int) -> None:
    client = await sim(outages={"replicate": outage})
    response = await client.post(
        create_path("hailuo-02"), json={"input": {"prompt": "p"}}, headers=AUTH
    )
    assert response.status == status
    problem = await response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]


async def test_a_rate_limit_is_the_documented_detail_with_retry_after(sim: Sim) -> None:
    client = await sim(fault_rate=1.0, faults=("rate-limit",), retry_after=3)
    response = await client.get(f"{API}/predictions/x18c1re8mxrma0crb3x8wbwqmg", headers=AUTH)
    assert (response.status, response.headers["Retry-After"]) == (429, "3")
    assert await response.json() == {
        "detail": "Request was throttled. Your rate limit resets in ~30s."
    }


async def test_a_failed_prediction_has_an_error_and_no_output(sim: Sim) -> None:
    client = await sim(task_failure_rate=1.0)
    final = (await until_ended(client, (await create(client, {"prompt": "p"}))["id"]))[-1]
    assert final["status"] == "failed" and final["error"] and final["output"] is None
    assert "completed_at" in final


async def test_outputs_are_removed_an_hour_after_the_end(sim: Sim) -> None:
    """`data_removed`: input, output and logs gone, and the old link no longer opens."""
    clock = ManualClock()
    client = await sim(clock=clock, gen_seconds=10)
    prediction_id = (await create(client, {"prompt": "p", "resolution": "768p"}))["id"]
    clock.advance(20)
    done = await get(client, prediction_id)
    assert (done["status"], done["data_removed"]) == ("succeeded", False)
    clock.advance(3600)
    removed = await get(client, prediction_id)
    assert (removed["status"], removed["data_removed"]) == ("succeeded", True)
    assert removed["input"] is removed["output"] is removed["logs"] is None
    status, _, _ = await download(client, done["output"])
    assert status == 403
    assert (await stats(client))["expired_links"] == 1


async def test_a_link_lives_until_the_removal_not_an_hour_from_the_poll(sim: Sim) -> None:
    clock = ManualClock()
    client = await sim(clock=clock, gen_seconds=10)
    prediction_id = (await create(client, {"prompt": "p", "resolution": "768p"}))["id"]
    clock.advance(3000)
    late = await get(client, prediction_id)
    clock.advance(650)  # ended ~10 s in: removed at ~3610 s, 40 s ago
    status, _, _ = await download(client, late["output"])
    assert status == 403


async def test_cancel_stops_a_running_prediction_only(sim: Sim) -> None:
    clock = ManualClock()
    client = await sim(clock=clock, gen_seconds=100)
    running = (await create(client, {"prompt": "a"}))["id"]
    clock.advance(50)
    canceled = await client.post(f"{API}/predictions/{running}/cancel", headers=AUTH)
    assert canceled.status == 200
    body = await canceled.json()
    assert (body["status"], body["output"], body["error"]) == ("canceled", None, None)
    assert body["completed_at"] and body["started_at"]
    clock.advance(100)
    assert (await get(client, running))["status"] == "canceled"  # it never succeeds

    finished = (await create(client, {"prompt": "b"}))["id"]
    clock.advance(200)
    after = await client.post(f"{API}/predictions/{finished}/cancel", headers=AUTH)
    assert (await after.json())["status"] == "succeeded"
    unknown = await client.post(f"{API}/predictions/nope/cancel", headers=AUTH)
    assert unknown.status == 404
    assert (await stats(client))["by_provider"]["replicate"]["cancels"] == 3


async def test_prefer_wait_answers_the_ended_prediction(sim: Sim) -> None:
    """Sync mode: held until it ends, 201 with the output, and `Location` to read it again."""
    client = await sim(gen_seconds=0.2)
    response = await client.post(
        create_path("hailuo-02"),
        json={"input": {"prompt": "p", "resolution": "768p"}},
        headers={**AUTH, "Prefer": "wait"},
    )
    assert response.status == 201
    body = await response.json()
    assert body["status"] == "succeeded" and body["output"]
    assert response.headers["Location"] == body["urls"]["get"]


async def test_prefer_wait_n_gives_up_after_n_seconds_as_starting(sim: Sim) -> None:
    """Past the wait, 202 `starting` (even when processing): the client polls from there."""
    client = await sim(gen_seconds=30)
    started = time.monotonic()
    response = await client.post(
        create_path("hailuo-02"),
        json={"input": {"prompt": "p"}},
        headers={**AUTH, "Prefer": "wait=1"},
    )
    assert 0.9 <= time.monotonic() - started < 5
    assert response.status == 202
    body = await response.json()
    assert body["status"] == "starting" and body["output"] is None
    assert response.headers["Location"].endswith(f"{API}/predictions/{body['id']}")
    assert (await get(client, body["id"]))["status"] == "processing"


@pytest.mark.parametrize("prefer", ["wait=0", "wait=61", "wait=soon", "respond-async"])
async def test_an_unreadable_prefer_is_async_mode(sim: Sim, prefer: str) -> None:
    client = await sim(gen_seconds=30)
    body = await create(client, {"prompt": "p"}, Prefer=prefer)
    assert body["status"] == "starting"
