"""fal.ai's queue as the simulator serves it: submit, status, result, cancel, CDN files."""

from __future__ import annotations

from typing import Any

import pytest
from simwire import KEY, Client, ManualClock, Sim, data_uri, download, probe, stats, wait_for

from hailuo_batch.simulator.fal import ENDPOINTS

AUTH = {"Authorization": f"Key {KEY}"}
APP = "/fal/fal-ai/minimax"
T2V = "hailuo-02/standard/text-to-video"
I2V = "hailuo-02/standard/image-to-video"
URL = "https://example.com/frame.jpg"  # never fetched: taken as 16:9


async def submit(client: Client, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"{APP}/{endpoint}", json=body, headers=AUTH)
    assert response.status == 200, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


async def status(client: Client, request_id: str, **query: str) -> tuple[int, dict[str, Any]]:
    response = await client.get(f"{APP}/requests/{request_id}/status", params=query, headers=AUTH)
    body: dict[str, Any] = await response.json()
    return response.status, body


async def until_completed(client: Client, request_id: str) -> list[tuple[int, dict[str, Any]]]:
    return await wait_for(
        lambda: status(client, request_id), lambda a: a[1]["status"] == "COMPLETED"
    )


async def result(client: Client, request_id: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = await client.get(f"{APP}/requests/{request_id}", headers=AUTH)
    body: dict[str, Any] = await response.json()
    return response.status, body, dict(response.headers)


async def video_of(client: Client, endpoint: str, body: dict[str, Any]) -> bytes:
    """Submit, poll to COMPLETED, fetch the result, download its video."""
    request_id = (await submit(client, endpoint, body))["request_id"]
    await until_completed(client, request_id)
    http, answer, _ = await result(client, request_id)
    assert http == 200, answer
    code, content_type, data = await download(client, answer["video"]["url"])
    assert (code, content_type) == (200, "video/mp4")
    return data


async def test_round_trip_through_the_queue_gives_the_requested_mp4(sim: Sim) -> None:
    """Absolute URLs naming only owner and app; 202 until COMPLETED (200); a CDN file."""
    client = await sim()
    submitted = await submit(client, T2V, {"prompt": "a red fox", "duration": "10"})
    request_id = submitted["request_id"]
    base = f"{client.make_url(APP)}/requests/{request_id}"
    assert submitted == {
        "request_id": request_id,
        "response_url": base,
        "status_url": f"{base}/status",
        "cancel_url": f"{base}/cancel",
        "status": "IN_QUEUE",
        "queue_position": 0,
    }
    answers = await until_completed(client, request_id)
    for http, pending in answers[:-1]:
        assert (http, pending["response_url"]) == (202, base)
        assert pending["status"] in ("IN_QUEUE", "IN_PROGRESS")
    http, completed = answers[-1]
    assert http == 200 and completed["response_url"] == base
    assert completed["metrics"]["inference_time"] > 0 and completed["logs"] is None
    assert "error" not in completed
    code, answer, _ = await result(client, request_id)
    assert code == 200
    video = answer["video"]
    assert (video["content_type"], video["file_name"]) == ("video/mp4", "output.mp4")
    assert video["url"].startswith(f"{client.make_url('/fal/files/zebra/')}")
    facts = probe((await download(client, video["url"]))[2])
    assert (facts.codec, facts.width, facts.height) == ("h264", 1366, 768)
    assert facts.duration == pytest.approx(10.0, abs=0.05)
    counted = (await stats(client))["by_provider"]["fal"]
    assert (counted["submitted"], counted["retrieves"], counted["downloads"]) == (1, 1, 1)


SIZES = {"512P": (910, 512), "720P": (1280, 720), "768P": (1366, 768), "1080P": (1920, 1080)}


def minimal_body(endpoint: str) -> dict[str, Any]:
    """The endpoint's required fields only."""
    body: dict[str, Any] = {"prompt": "a red fox"}
    if ENDPOINTS[endpoint].image:
        body[str(ENDPOINTS[endpoint].image)] = URL
    return body


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
async def test_every_endpoint_makes_its_default_video(sim: Sim, endpoint: str) -> None:
    """Standard tiers 768P, pro 1080P, the 01 family 720P; 6 s without a duration field."""
    facts = probe(await video_of(await sim(), endpoint, minimal_body(endpoint)))
    assert (facts.width, facts.height) == SIZES[ENDPOINTS[endpoint].resolutions[0]]
    assert facts.duration == pytest.approx(6.0, abs=0.05)


async def test_512p_first_and_last_frames_follow_a_portrait_image(sim: Sim) -> None:
    body = {
        "prompt": "she turns",
        "image_url": data_uri(720, 1280),
        "end_image_url": data_uri(720, 1280, "JPEG"),
        "resolution": "512P",
    }
    facts = probe(await video_of(await sim(), I2V, body))
    assert (facts.width, facts.height) == (512, 910)


REFUSED_BY_THE_RUNNER: list[tuple[str, dict[str, Any], list[str], str]] = [
    (T2V, {"prompt": "p", "duration": 6}, ["body", "duration"], "literal_error"),
    (T2V, {"prompt": "p", "duration": "8"}, ["body", "duration"], "literal_error"),
    (T2V, {}, ["body", "prompt"], "missing"),
    (T2V, {"prompt": "x" * 2001}, ["body", "prompt"], "string_too_long"),
    (T2V, {"prompt": "p", "prompt_optimizer": "yes"}, ["body", "prompt_optimizer"], "type_error"),
    (I2V, {"prompt": "p"}, ["body", "image_url"], "missing"),
    (
        I2V,
        {"prompt": "p", "image_url": URL, "resolution": "1080P"},
        ["body", "resolution"],
        "literal_error",
    ),
    (I2V, {"prompt": "p", "image_url": "aGVsbG8="}, ["body", "image_url"], "value_error"),
    (
        "video-01-subject-reference",
        {"prompt": "p"},
        ["body", "subject_reference_image_url"],
        "missing",
    ),
]


@pytest.mark.parametrize(("endpoint", "body", "loc", "kind"), REFUSED_BY_THE_RUNNER)
async def test_the_queue_takes_bad_input_and_the_result_refuses_it(
    sim: Sim, endpoint: str, body: dict[str, Any], loc: list[str], kind: str
) -> None:
    """Paid for: the submit is accepted, the request COMPLETED, its result a 422."""
    client = await sim()
    request_id = (await submit(client, endpoint, body))["request_id"]
    await until_completed(client, request_id)
    http, answer, headers = await result(client, request_id)
    assert (http, headers["X-Fal-Retryable"]) == (422, "false")
    (error,) = answer["detail"]
    assert (error["loc"], error["type"]) == (loc, kind)
    assert error["msg"] and error["url"] == f"https://docs.fal.ai/errors/#{kind}"
    counted = (await stats(client))["by_provider"]["fal"]
    assert (counted["submitted"], counted["refused"]) == (1, 0)


async def test_fields_an_endpoint_does_not_list_are_ignored(sim: Sim) -> None:
    facts = probe(await video_of(await sim(), T2V, {"prompt": "p", "resolution": "1080P"}))
    assert (facts.width, facts.height) == (1366, 768)


async def test_a_body_that_is_not_an_object_is_refused_at_once(sim: Sim) -> None:
    client = await sim()
    response = await client.post(f"{APP}/{T2V}", data=b"[1, 2]", headers=AUTH)
    assert response.status == 422
    assert (await response.json())["detail"][0]["loc"] == ["body"]
    assert (await stats(client))["by_provider"]["fal"]["refused"] == 1


async def test_an_unknown_endpoint_is_a_404(sim: Sim) -> None:
    response = await (await sim()).post(f"{APP}/hailuo-99/text-to-video", json={}, headers=AUTH)
    assert response.status == 404
    assert "hailuo-99" in (await response.json())["detail"]


async def test_keys_go_in_a_key_header(sim: Sim) -> None:
    client = await sim(valid_keys={"fal": KEY})
    url = f"{APP}/{T2V}"
    cases = [({}, "Unauthorized"), ({"Authorization": f"Bearer {KEY}"}, "Unauthorized")]
    cases.append(({"Authorization": "Key wrong"}, "No user found for Key ID and Secret"))
    for headers, detail in cases:
        response = await client.post(url, json={"prompt": "p"}, headers=headers)
        assert (response.status, await response.json()) == (401, {"detail": detail})
    await submit(client, T2V, {"prompt": "p"})


@pytest.mark.parametrize(
    ("outage", "http", "needle"),
    [("balance", 403, "Exhausted balance"), ("auth", 401, "No user found"), ("down", 503, "nginx")],
)
async def test_outages_refuse_every_submit(sim: Sim, outage: str, http: int, needle: str) -> None:
    client = await sim(outages={"fal": outage})
    response = await client.post(f"{APP}/{T2V}", json={"prompt": "p"}, headers=AUTH)
    assert response.status == http
    assert needle in await response.text()


async def test_an_unknown_request_is_a_404_everywhere(sim: Sim) -> None:
    client = await sim()
    unknown = "80e732af-660e-45cd-bd63-580e4f2a94cc"
    assert await status(client, unknown) == (404, {"detail": "Request not found"})
    assert (await result(client, unknown))[:2] == (404, {"detail": "Request not found"})
    response = await client.put(f"{APP}/requests/{unknown}/cancel", headers=AUTH)
    assert (response.status, await response.json()) == (404, {"status": "NOT_FOUND"})


async def test_logs_come_when_asked(sim: Sim) -> None:
    clock = ManualClock()
    client = await sim(clock=clock, gen_seconds=10)
    request_id = (await submit(client, T2V, {"prompt": "p"}))["request_id"]
    clock.advance(1)
    assert (await status(client, request_id))[1]["logs"] is None
    for asked in ("1", "true"):
        (line,) = (await status(client, request_id, logs=asked))[1]["logs"]
        assert set(line) == {"message", "level", "source", "timestamp"}
    assert (await status(client, request_id, logs="false"))[1]["logs"] is None
    clock.advance(20)
    assert len((await status(client, request_id, logs="1"))[1]["logs"]) == 2


async def test_a_result_asked_too_early_is_a_400(sim: Sim) -> None:
    client = await sim(clock=ManualClock(), gen_seconds=10)
    request_id = (await submit(client, T2V, {"prompt": "p"}))["request_id"]
    assert (await result(client, request_id))[:2] == (
        400,
        {"detail": "Request is still in progress"},
    )


async def test_a_failed_generation_completes_and_its_result_says_why(sim: Sim) -> None:
    client = await sim(task_failure_rate=1.0)
    request_id = (await submit(client, T2V, {"prompt": "p"}))["request_id"]
    completed = (await until_completed(client, request_id))[-1][1]
    assert completed["error_type"] == "runner_server_error" and completed["error"]
    http, answer, headers = await result(client, request_id)
    assert (http, answer["error_type"], headers["X-Fal-Error-Type"]) == (
        500,
        "runner_server_error",
        "runner_server_error",
    )


async def test_queue_position_counts_the_requests_ahead(sim: Sim) -> None:
    clock = ManualClock()
    client = await sim(clock=clock, max_concurrent=1, gen_seconds=100)
    ids = [(await submit(client, T2V, {"prompt": f"{n}"}))["request_id"] for n in range(3)]
    assert [(await status(client, i))[1]["status"] for i in ids] == [
        "IN_PROGRESS",
        "IN_QUEUE",
        "IN_QUEUE",
    ]
    assert [(await status(client, i))[1]["queue_position"] for i in ids[1:]] == [0, 1]


async def test_cancel_removes_a_queued_request_only(sim: Sim) -> None:
    clock = ManualClock()
    client = await sim(clock=clock, max_concurrent=1, gen_seconds=100)
    running, queued = [(await submit(client, T2V, {"prompt": p}))["request_id"] for p in "ab"]

    async def cancel(request_id: str) -> tuple[int, dict[str, Any]]:
        response = await client.put(f"{APP}/requests/{request_id}/cancel", headers=AUTH)
        return response.status, await response.json()

    assert await cancel(queued) == (202, {"status": "CANCELLATION_REQUESTED"})
    http, cancelled = await status(client, queued)
    assert (http, cancelled["status"], cancelled["error_type"]) == (
        200,
        "COMPLETED",
        "client_cancelled",
    )
    assert (await result(client, queued))[0] == 499
    assert await cancel(queued) == (400, {"status": "ALREADY_COMPLETED"})
    # In progress: the signal is sent; Hailuo's app finishes the video anyway.
    assert await cancel(running) == (202, {"status": "CANCELLATION_REQUESTED"})
    clock.advance(150)
    assert (await result(client, running))[0] == 200


async def test_media_live_seven_days_whatever_the_signed_links_do(sim: Sim) -> None:
    clock = ManualClock()
    client = await sim(clock=clock, gen_seconds=1, url_ttl=60)
    request_id = (await submit(client, T2V, {"prompt": "p"}))["request_id"]
    clock.advance(2)
    url = (await result(client, request_id))[1]["video"]["url"]
    clock.advance(6 * 86400)
    assert (await download(client, url))[0] == 200
    clock.advance(86400)
    assert (await download(client, url))[0] == 403
