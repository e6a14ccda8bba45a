"""Novita (and HighwayAPI, same protocol) as the simulator serves it, in raw HTTP."""

from __future__ import annotations

import asyncio
import io
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from simwire import (
    AUTH,
    KEY,
    Client,
    ManualClock,
    Probe,
    Sim,
    data_uri,
    download,
    probe,
    stats,
    wait_for,
)

HAILUO = "/v3/async/minimax-hailuo-02"
QUEUED, PROCESSING = "TASK_STATUS_QUEUED", "TASK_STATUS_PROCESSING"
SUCCEED = "TASK_STATUS_SUCCEED"
STATUSES = {QUEUED, PROCESSING, SUCCEED}


async def submit(client: Client, body: dict[str, Any], provider: str = "novita") -> str:
    response = await client.post(f"/{provider}{HAILUO}", json=body, headers=AUTH)
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert set(answer) == {"task_id"}
    uuid.UUID(answer["task_id"])
    task_id: str = answer["task_id"]
    return task_id


async def result(client: Client, task_id: str, provider: str = "novita") -> dict[str, Any]:
    response = await client.get(
        f"/{provider}/v3/async/task-result", params={"task_id": task_id}, headers=AUTH
    )
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def until_done(
    client: Client, task_id: str, provider: str = "novita"
) -> list[dict[str, Any]]:
    return await wait_for(
        lambda: result(client, task_id, provider),
        lambda body: body["task"]["status"] in ("TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED"),
    )


@pytest.mark.parametrize("provider", ["novita", "highway"])
async def test_text_to_video_round_trip_gives_the_requested_mp4(sim: Sim, provider: str) -> None:
    """Submit, poll to success, download: a real 6 s 1366x768 H.264 MP4 at 25 fps."""
    client = await sim()
    task_id = await submit(client, {"prompt": "a red fox in snow [Pan left]"}, provider)
    answers = await until_done(client, task_id, provider)

    assert {a["task"]["status"] for a in answers} <= STATUSES
    final = answers[-1]
    assert final["task"] == {
        "task_id": task_id,
        "task_type": "MINIMAX_HAILUO_02_6S_768P",
        "status": "TASK_STATUS_SUCCEED",
        "reason": "",
        "eta": 0,
        "progress_percent": 100,
    }
    assert set(final) == {"extra", "task", "images", "videos", "audios"}
    (video,) = final["videos"]
    assert video["video_type"] == "mp4" and video["video_url_ttl"] == "3600"
    status, content_type, body = await download(client, video["video_url"])
    assert (status, content_type) == (200, "video/mp4")
    facts = probe(body)
    assert (facts.codec, facts.width, facts.height, facts.pix_fmt) == ("h264", 1366, 768, "yuv420p")
    assert facts.duration == pytest.approx(6.0, abs=0.05)
    assert facts.fps == pytest.approx(25.0)


async def test_video_url_is_a_cos_presigned_url_with_its_window(sim: Sim) -> None:
    """`q-sign-time=<start>;<end>` spans url_ttl, and a fresh URL comes with every poll."""
    client = await sim(url_ttl=600)
    task_id = await submit(client, {"prompt": "koi at dawn"})
    first = (await until_done(client, task_id))[-1]["videos"][0]["video_url"]
    second = (await result(client, task_id))["videos"][0]["video_url"]
    query = parse_qs(urlsplit(first).query, keep_blank_values=True)
    start, end = (int(part) for part in query["q-sign-time"][0].split(";"))
    assert end - start in (599, 600)
    assert query["q-sign-algorithm"] == ["sha1"] and query["q-signature"][0]
    assert urlsplit(first).path.startswith("/novita/cos/prod/") and first != second


async def test_video01_is_six_seconds_at_720p(sim: Sim) -> None:
    client = await sim()
    response = await client.post(
        "/novita/v3/async/minimax-video-01", json={"prompt": "a lighthouse"}, headers=AUTH
    )
    assert response.status == 200
    task_id = (await response.json())["task_id"]
    final = (await until_done(client, task_id))[-1]
    assert final["task"]["task_type"] == "MINIMAX_VIDEO_01"
    facts = probe((await download(client, final["videos"][0]["video_url"]))[2])
    assert (facts.width, facts.height) == (1280, 720)
    assert facts.duration == pytest.approx(6.0, abs=0.05)


async def test_highway_has_the_video01_endpoint_too(sim: Sim) -> None:
    """HighwayAPI's spec lists Video-01 among its five models (docs/providers/novita.md §2)."""
    client = await sim()
    response = await client.post(
        "/highway/v3/async/minimax-video-01", json={"prompt": "x"}, headers=AUTH
    )
    assert response.status == 200
    task_id = (await response.json())["task_id"]
    final = (await until_done(client, task_id, "highway"))[-1]
    assert final["task"]["task_type"] == "MINIMAX_VIDEO_01"


async def video_of(
    client: Client, path: str, body: dict[str, Any], provider: str = "novita"
) -> tuple[dict[str, Any], Probe]:
    """Submit to `path`, poll to success, download: the final task and the video's facts."""
    response = await client.post(f"/{provider}/v3/async/{path}", json=body, headers=AUTH)
    assert response.status == 200, await response.text()
    final = (await until_done(client, (await response.json())["task_id"], provider))[-1]
    assert final["task"]["status"] == SUCCEED
    data = (await download(client, final["videos"][0]["video_url"]))[2]
    return final["task"], probe(data)


@pytest.mark.parametrize("provider", ["novita", "highway"])
async def test_hailuo_23_text_path_makes_landscape_and_ignores_an_image(
    sim: Sim, provider: str
) -> None:
    """The t2v path documents no image: one sent anyway is ignored, as unknown fields are."""
    client = await sim()
    body = {"prompt": "p", "image": data_uri(720, 1280), "duration": 10, "fast_pretreatment": True}
    task, facts = await video_of(client, "minimax-hailuo-2.3-t2v", body, provider)
    assert task["task_type"] == "MINIMAX_HAILUO_2.3_T2V_10S_768P"
    assert (facts.width, facts.height) == (1366, 768)
    assert facts.duration == pytest.approx(10.0, abs=0.05)


@pytest.mark.parametrize("path", ["minimax-hailuo-2.3-i2v", "minimax-hailuo-2.3-fast-i2v"])
async def test_hailuo_23_image_paths_follow_the_first_frame(sim: Sim, path: str) -> None:
    client = await sim()
    body = {"prompt": "p", "image": data_uri(720, 1280, "JPEG"), "resolution": "1080P"}
    task, facts = await video_of(client, path, body)
    assert task["task_type"] == f"{path.upper().replace('-', '_')}_6S_1080P"
    assert (facts.width, facts.height) == (1080, 1920)


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        ("minimax-hailuo-2.3-i2v", {"prompt": "p"}, "requires image"),
        # `image_url` is only 02's old name for its first frame
        (
            "minimax-hailuo-2.3-i2v",
            {"prompt": "p", "image_url": "https://e.x/a.png"},
            "requires image",
        ),
        ("minimax-hailuo-2.3-fast-i2v", {"prompt": "p"}, "requires image"),
        ("minimax-hailuo-2.3-t2v", {"prompt": "p", "resolution": "512P"}, "resolution"),
        (
            "minimax-hailuo-2.3-fast-i2v",
            {"prompt": "p", "image": "https://e.x/a.png", "resolution": "1080P", "duration": 10},
            "1080P",
        ),
        ("minimax-hailuo-2.3-i2v", {"image": "https://e.x/a.png"}, "prompt"),
    ],
)
async def test_hailuo_23_paths_refuse_bad_parameters(
    sim: Sim, path: str, body: dict[str, Any], needle: str
) -> None:
    client = await sim()
    response = await client.post(f"/highway/v3/async/{path}", json=body, headers=AUTH)
    assert response.status == 400
    answer = await response.json()
    assert answer["reason"] == "INVALID_REQUEST_BODY" and needle in answer["message"]


@pytest.mark.parametrize("field", ["image", "image_url"])
async def test_image_to_video_follows_a_portrait_first_frame(sim: Sim, field: str) -> None:
    """A 9:16 first frame gives a 768x1366 video; `image_url` is the endpoint's older name."""
    client = await sim()
    task_id = await submit(client, {"prompt": "she turns", field: data_uri(720, 1280, "JPEG")})
    final = (await until_done(client, task_id))[-1]
    facts = probe((await download(client, final["videos"][0]["video_url"]))[2])
    assert (facts.width, facts.height) == (768, 1366)


async def test_multi_megabyte_data_uri_images_are_accepted(sim: Sim) -> None:
    """Bodies beyond aiohttp's 1 MB default pass: images may be up to 20 MB."""
    client = await sim()
    body = orjson.dumps({"prompt": "p", "image": data_uri(1600, 900, noisy=True)})
    assert len(body) > 2_000_000
    headers = {**AUTH, "Content-Type": "application/json"}
    response = await client.post(f"/novita{HAILUO}", data=io.BytesIO(body), headers=headers)
    assert response.status == 200, await response.text()


async def test_url_images_are_taken_as_16_9(sim: Sim) -> None:
    client = await sim()
    body = {"prompt": "p", "image": "https://example.com/a.png", "resolution": "1080P"}
    final = (await until_done(client, await submit(client, body)))[-1]
    facts = probe((await download(client, final["videos"][0]["video_url"]))[2])
    assert (facts.width, facts.height) == (1920, 1080)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 2001}, "2000"),
        ({"prompt": "p", "duration": 8}, "duration"),
        ({"prompt": "p", "duration": "6"}, "duration"),
        ({"prompt": "p", "resolution": "512P"}, "resolution"),
        ({"prompt": "p", "resolution": "1080P", "duration": 10}, "1080P"),
        ({"prompt": "p", "image": "iVBORw0KGgoAAAANSUhEUgAA"}, "data URI"),
        ({"prompt": "p", "image": data_uri(200, 200)}, "300px"),
        ({"prompt": "p", "image": data_uri(1200, 400)}, "aspect"),
        ({"prompt": "p", "end_image": "https://example.com/end.png"}, "end_image"),
        ({"prompt": "p", "enable_prompt_expansion": "yes"}, "enable_prompt_expansion"),
    ],
)
async def test_bad_parameters_get_400_invalid_request_body(
    sim: Sim, body: dict[str, Any], needle: str
) -> None:
    client = await sim()
    response = await client.post(f"/novita{HAILUO}", json=body, headers=AUTH)
    assert response.status == 400
    answer = await response.json()
    assert set(answer) == {"code", "reason", "message", "metadata"}
    assert (answer["code"], answer["reason"]) == (400, "INVALID_REQUEST_BODY")
    assert needle in answer["message"]
    counted = (await stats(client))["by_provider"]["novita"]
    assert (counted["submitted"], counted["refused"]) == (0, 1)


async def test_a_body_that_is_not_json_is_refused(sim: Sim) -> None:
    client = await sim()
    response = await client.post(f"/novita{HAILUO}", data=b"{prompt:", headers=AUTH)
    assert response.status == 400
    assert (await response.json())["reason"] == "INVALID_REQUEST_BODY"


async def test_missing_and_wrong_keys(sim: Sim) -> None:
    """No key: 401 FAILED_TO_AUTH; a wrong one: 403 INVALID_API_KEY; the right one works."""
    client = await sim(valid_keys={"novita": KEY})
    missing = await client.post(f"/novita{HAILUO}", json={"prompt": "p"})
    wrong = await client.post(
        f"/novita{HAILUO}", json={"prompt": "p"}, headers={"Authorization": "Bearer nope"}
    )
    poll = await client.get("/novita/v3/async/task-result", params={"task_id": "x"})
    assert (missing.status, (await missing.json())["reason"]) == (401, "FAILED_TO_AUTH")
    assert (wrong.status, (await wrong.json())["reason"]) == (403, "INVALID_API_KEY")
    assert poll.status == 401
    await submit(client, {"prompt": "p"})
    assert KEY not in str(await stats(client))


async def test_unknown_task_id_is_a_404_in_novita_shape(sim: Sim) -> None:
    client = await sim()
    response = await client.get(
        "/novita/v3/async/task-result", params={"task_id": str(uuid.uuid4())}, headers=AUTH
    )
    assert response.status == 404
    answer = await response.json()
    assert answer["code"] == 404 and answer["reason"] and answer["metadata"] == {}


@pytest.mark.parametrize(
    ("outage", "status", "reason"),
    [
        ("balance", 403, "NOT_ENOUGH_BALANCE"),
        ("auth", 403, "INVALID_API_KEY"),
        ("down", 503, "SERVICE_NOT_AVAILABLE"),
    ],
)
async def test_outages_refuse_every_submit(sim: Sim, outage: str, status: int, reason: str) -> None:
    """An outage hits only its provider: HighwayAPI still accepts the same submit."""
    client = await sim(outages={"novita": outage})
    for _ in range(3):
        response = await client.post(f"/novita{HAILUO}", json={"prompt": "p"}, headers=AUTH)
        assert response.status == status
        assert (await response.json())["reason"] == reason
    await submit(client, {"prompt": "p"}, "highway")
    counted = await stats(client)
    assert counted["by_provider"]["novita"]["submitted"] == 0
    assert counted["by_provider"]["highway"]["submitted"] == 1


async def test_tasks_beyond_max_concurrent_wait_queued_with_moving_eta(sim: Sim) -> None:
    """Two slots, four tasks: two process while two queue; progress and eta move on the clock."""
    clock = ManualClock()
    client = await sim(clock=clock, max_concurrent=2, gen_seconds=100)

    async def tasks() -> list[dict[str, Any]]:
        return [(await result(client, task_id))["task"] for task_id in ids]

    ids = [await submit(client, {"prompt": f"shot {n}"}) for n in range(4)]
    start = await tasks()
    assert [t["status"] for t in start] == [PROCESSING, PROCESSING, QUEUED, QUEUED]
    assert all(90 <= t["eta"] <= 110 for t in start[:2])
    assert all(180 <= t["eta"] <= 220 for t in start[2:])
    clock.advance(50)
    middle = await tasks()
    assert [t["status"] for t in middle] == [PROCESSING, PROCESSING, QUEUED, QUEUED]
    assert all(40 <= t["progress_percent"] <= 60 for t in middle[:2])
    assert [t["eta"] for t in middle] == [t["eta"] - 50 for t in start]
    clock.advance(65)
    assert [t["status"] for t in await tasks()] == [SUCCEED, SUCCEED, PROCESSING, PROCESSING]
    clock.advance(120)
    assert [t["status"] for t in await tasks()] == [SUCCEED] * 4


async def test_failed_tasks_carry_a_reason_and_no_video(sim: Sim) -> None:
    client = await sim(task_failure_rate=1.0)
    final = (await until_done(client, await submit(client, {"prompt": "p"})))[-1]
    assert final["task"]["status"] == "TASK_STATUS_FAILED"
    assert final["task"]["reason"] and final["videos"] == []


async def test_expired_url_answers_403_and_a_fresh_poll_gives_a_working_one(sim: Sim) -> None:
    client = await sim(url_ttl=0.3)
    task_id = await submit(client, {"prompt": "p"})
    url = (await until_done(client, task_id))[-1]["videos"][0]["video_url"]
    assert (await download(client, url))[0] == 200
    await asyncio.sleep(0.35)
    status, content_type, body = await download(client, url)
    assert (status, content_type) == (403, "application/xml")
    assert b"expired" in body
    fresh = (await result(client, task_id))["videos"][0]["video_url"]
    assert (await download(client, fresh))[0] == 200
    assert (await stats(client))["expired_links"] == 1


async def test_a_forged_token_is_refused(sim: Sim) -> None:
    client = await sim()
    url = (await until_done(client, await submit(client, {"prompt": "p"})))[-1]["videos"][0]
    forged = url["video_url"].replace("/prod/", "/prod/x")
    assert (await download(client, forged))[0] == 403


async def test_stats_count_submits_duplicates_polls_and_downloads(sim: Sim) -> None:
    """The same body twice is identical; the copy never polled is a duplicate."""
    client = await sim()
    first = await submit(client, {"prompt": "same", "duration": 6})
    await submit(client, {"duration": 6, "prompt": "same"})
    await submit(client, {"prompt": "other"})
    answers = await until_done(client, first)
    await download(client, answers[-1]["videos"][0]["video_url"])
    counted = await stats(client)
    novita = counted["by_provider"]["novita"]
    assert (novita["submitted"], novita["identical_submits"], novita["duplicate_submits"]) == (
        3,
        1,
        1,
    )
    assert novita["polls"] == len(answers) and novita["downloads"] == 1
    assert counted["submitted"] == 3 and counted["by_provider"]["highway"]["submitted"] == 0
    assert {"faults_injected", "lost_replies", "faults_by_kind", "retrieves"} <= set(counted)
