"""MiniMax's own API (v1) as the simulator serves it: submit, query, files/retrieve, and each
model's fields as documented. V2 (H3) has test_minimax_v2_wire.py."""

from __future__ import annotations

from typing import Any

import pytest
from simwire import AUTH, KEY, Client, ManualClock, Sim, data_uri, download, probe, stats, wait_for

OK = {"status_code": 0, "status_msg": "success"}
PENDING = {"Preparing", "Queueing", "Processing"}
FRAME = "https://example.com/frame.jpg"
SUBJECT = [{"type": "character", "image": [FRAME]}]


async def submit(client: Client, body: dict[str, Any]) -> str:
    response = await client.post("/minimax/v1/video_generation", json=body, headers=AUTH)
    assert response.status == 200
    answer = await response.json()
    assert answer["base_resp"] == OK, answer
    task_id: str = answer["task_id"]
    assert task_id.isdigit()
    return task_id


async def query(client: Client, task_id: str) -> dict[str, Any]:
    response = await client.get(
        "/minimax/v1/query/video_generation", params={"task_id": task_id}, headers=AUTH
    )
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def until_done(client: Client, task_id: str) -> list[dict[str, Any]]:
    return await wait_for(lambda: query(client, task_id), lambda b: b["status"] not in PENDING)


async def retrieve(client: Client, file_id: str) -> dict[str, Any]:
    response = await client.get(
        "/minimax/v1/files/retrieve", params={"file_id": file_id}, headers=AUTH
    )
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def video_of(client: Client, body: dict[str, Any]) -> bytes:
    """Submit, query until Success, retrieve the file, download it."""
    final = (await until_done(client, await submit(client, body)))[-1]
    assert final["status"] == "Success"
    status, content_type, data = await download(
        client, (await retrieve(client, final["file_id"]))["file"]["download_url"]
    )
    assert (status, content_type) == (200, "video/mp4")
    return data


async def test_three_step_round_trip_gives_the_requested_mp4(sim: Sim) -> None:
    """Query never carries a URL; files/retrieve does; the MP4 is 1920x1080, 6 s, H.264."""
    client = await sim()
    body = {"model": "MiniMax-Hailuo-02", "prompt": "neon alley [Push in]", "resolution": "1080P"}
    response = await client.post("/minimax/v1/video_generation", json=body, headers=AUTH)
    assert response.headers["Trace-Id"]
    task_id = (await response.json())["task_id"]
    answers = await until_done(client, task_id)

    for pending in answers[:-1]:
        assert pending["status"] in PENDING
        assert (pending["file_id"], pending["video_width"], pending["video_height"]) == ("", 0, 0)
    final = answers[-1]
    assert final["status"] == "Success" and final["base_resp"] == OK
    assert (final["video_width"], final["video_height"]) == (1920, 1080)
    file = await retrieve(client, final["file_id"])
    assert file["base_resp"] == OK
    assert file["file"]["file_id"] == int(final["file_id"])
    assert (
        file["file"]["filename"] == "output.mp4" and file["file"]["purpose"] == "video_generation"
    )
    status, _, data = await download(client, file["file"]["download_url"])
    assert status == 200
    facts = probe(data)
    assert (facts.codec, facts.width, facts.height) == ("h264", 1920, 1080)
    assert facts.duration == pytest.approx(6.0, abs=0.05)
    counted = (await stats(client))["by_provider"]["minimax"]
    assert (counted["retrieves"], counted["downloads"], counted["polls"]) == (1, 1, len(answers))


async def test_ten_second_768p(sim: Sim) -> None:
    data = await video_of(
        client := await sim(), {"model": "MiniMax-Hailuo-02", "prompt": "p", "duration": 10}
    )
    facts = probe(data)
    assert (facts.width, facts.height) == (1366, 768)
    assert facts.duration == pytest.approx(10.0, abs=0.05)
    assert (await stats(client))["submitted"] == 1


async def test_512p_image_to_video_follows_the_first_frame(sim: Sim) -> None:
    client = await sim()
    body = {
        "model": "MiniMax-Hailuo-02",
        "first_frame_image": data_uri(1280, 720),
        "resolution": "512P",
    }
    facts = probe(await video_of(client, body))
    assert (facts.width, facts.height) == (910, 512)


async def test_portrait_first_and_last_frame(sim: Sim) -> None:
    client = await sim()
    body = {
        "model": "MiniMax-Hailuo-02",
        "prompt": "she turns",
        "first_frame_image": data_uri(720, 1280, "JPEG"),
        "last_frame_image": data_uri(720, 1280, "JPEG"),
    }
    facts = probe(await video_of(client, body))
    assert (facts.width, facts.height) == (768, 1366)


@pytest.mark.parametrize(
    ("model", "image", "size"),
    [
        ("T2V-01", None, (1280, 720)),
        ("T2V-01-Director", None, (1280, 720)),
        ("I2V-01", (1280, 720), (1280, 720)),
        ("I2V-01-Director", (720, 1280), (720, 1280)),
        ("I2V-01-live", (1000, 1000), (720, 720)),
    ],
)
async def test_the_01_family_is_720p_for_6_s(
    sim: Sim, model: str, image: tuple[int, int] | None, size: tuple[int, int]
) -> None:
    """No duration or resolution sent: 720P, 6 s, the first frame's shape where one leads."""
    body: dict[str, Any] = {"model": model, "prompt": "p"}
    if image:
        body["first_frame_image"] = data_uri(*image)
    facts = probe(await video_of(await sim(), body))
    assert (facts.width, facts.height) == size
    assert facts.duration == pytest.approx(6.0, abs=0.05)


async def test_s2v_01_makes_its_subject_at_720p(sim: Sim) -> None:
    """What S2V-01 makes is undocumented (UNVERIFIED): 6 s at 720P, as other sources say."""
    subject = [{"type": "character", "image": [data_uri(720, 1280, "JPEG")]}]
    body = {"model": "S2V-01", "prompt": "she waves", "subject_reference": subject}
    facts = probe(await video_of(await sim(), body))
    assert (facts.width, facts.height) == (1280, 720)
    assert facts.duration == pytest.approx(6.0, abs=0.05)


@pytest.mark.parametrize(
    ("body", "size"),
    [
        ({"model": "MiniMax-Hailuo-2.3", "prompt": "p", "resolution": "1080P"}, (1920, 1080)),
        (
            {
                "model": "MiniMax-Hailuo-2.3-Fast",
                "first_frame_image": data_uri(720, 1280),
                "duration": 10,
                "fast_pretreatment": True,
            },
            (768, 1366),
        ),
    ],
)
async def test_hailuo_23_and_its_fast_sibling(
    sim: Sim, body: dict[str, Any], size: tuple[int, int]
) -> None:
    facts = probe(await video_of(await sim(), body))
    assert (facts.width, facts.height) == size


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"model": "MiniMax-Hailuo-02", "prompt": "p", "resolution": "512P"}, "512P"),
        (
            {"model": "MiniMax-Hailuo-02", "prompt": "p", "resolution": "1080P", "duration": 10},
            "1080P",
        ),
        ({"model": "MiniMax-Hailuo-02", "prompt": "p", "duration": 8}, "duration"),
        ({"model": "MiniMax-Hailuo-02"}, "prompt"),
        ({"model": "MiniMax-Hailuo-02", "prompt": "x" * 2001}, "2000"),
        ({"model": "Hailuo-99", "prompt": "p"}, "model"),
        ({"prompt": "p"}, "model"),
        ({"model": "I2V-01", "prompt": "p"}, "first_frame_image"),
        ({"model": "I2V-01-live", "prompt": "p"}, "first_frame_image"),
        ({"model": "MiniMax-Hailuo-2.3-Fast", "prompt": "p"}, "first_frame_image"),
        ({"model": "T2V-01", "prompt": "p", "first_frame_image": FRAME}, "first_frame_image"),
        ({"model": "video-01", "prompt": "p"}, "model"),  # in no current enum
        ({"model": "T2V-01", "prompt": "p", "resolution": "768P"}, "resolution"),
        ({"model": "T2V-01-Director", "prompt": "p", "duration": 10}, "duration"),
        ({"model": "T2V-01", "prompt": "p", "fast_pretreatment": True}, "fast_pretreatment"),
        (
            {"model": "T2V-01", "prompt": "p", "subject_reference": SUBJECT},
            "subject_reference",
        ),
        ({"model": "MiniMax-Hailuo-2.3", "prompt": "p", "resolution": "512P"}, "resolution"),
        (
            {
                "model": "MiniMax-Hailuo-2.3",
                "first_frame_image": FRAME,
                "last_frame_image": FRAME,
            },
            "last_frame_image",
        ),
        ({"model": "S2V-01", "prompt": "p"}, "subject_reference"),
        ({"model": "S2V-01", "subject_reference": SUBJECT, "duration": 6}, "duration"),
        ({"model": "S2V-01", "subject_reference": SUBJECT, "resolution": "720P"}, "resolution"),
        (
            {"model": "S2V-01", "subject_reference": SUBJECT, "first_frame_image": FRAME},
            "first_frame_image",
        ),
        (
            {"model": "S2V-01", "subject_reference": [{"type": "object", "image": [FRAME]}]},
            "character",
        ),
        (
            {"model": "S2V-01", "subject_reference": [{"type": "character", "image": FRAME}]},
            "one image",
        ),
        (
            {"model": "S2V-01", "subject_reference": [*SUBJECT, *SUBJECT]},
            "array of one",
        ),
        (
            {"model": "MiniMax-Hailuo-02", "prompt": "p", "last_frame_image": "https://e.x/l.png"},
            "last_frame_image",
        ),
        ({"model": "MiniMax-Hailuo-02", "prompt": "p", "first_frame_image": "aGVsbG8="}, "URL"),
    ],
)
async def test_bad_parameters_get_base_resp_2013_with_http_200(
    sim: Sim, body: dict[str, Any], needle: str
) -> None:
    client = await sim()
    response = await client.post("/minimax/v1/video_generation", json=body, headers=AUTH)
    assert response.status == 200
    answer = await response.json()
    assert answer["task_id"] == ""
    assert answer["base_resp"]["status_code"] == 2013
    assert answer["base_resp"]["status_msg"].startswith("invalid params")
    assert needle in answer["base_resp"]["status_msg"]
    assert (await stats(client))["submitted"] == 0


async def test_missing_and_wrong_keys_get_1004(sim: Sim) -> None:
    client = await sim(valid_keys={"minimax": KEY})
    body = {"model": "MiniMax-Hailuo-02", "prompt": "p"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
        response = await client.post("/minimax/v1/video_generation", json=body, headers=headers)
        assert response.status == 200
        assert (await response.json())["base_resp"]["status_code"] == 1004
    await submit(client, body)


async def test_unknown_task_and_file_ids_get_a_non_zero_base_resp(sim: Sim) -> None:
    client = await sim()
    assert (await query(client, "123456789012345"))["base_resp"]["status_code"] != 0
    assert (await retrieve(client, "123456789012345"))["base_resp"]["status_code"] != 0


async def test_file_id_is_hidden_until_success(sim: Sim) -> None:
    clock = ManualClock()
    client = await sim(clock=clock, gen_seconds=60)
    task_id = await submit(client, {"model": "MiniMax-Hailuo-02", "prompt": "p"})
    processing = await query(client, task_id)
    assert (processing["status"], processing["file_id"]) == ("Processing", "")
    clock.advance(120)
    assert (await query(client, task_id))["file_id"].isdigit()


async def test_there_is_no_task_list(sim: Sim) -> None:
    """V1 has none; V2's lists H3 tasks without their input, useless to a client that lost
    a submit reply, and is not simulated."""
    client = await sim()
    await submit(client, {"model": "MiniMax-Hailuo-02", "prompt": "p"})
    response = await client.get(
        "/minimax/v2/query/video_generation", params={"page_num": 1}, headers=AUTH
    )
    assert response.status == 404
    assert (await stats(client))["lists"] == 0


@pytest.mark.parametrize(
    ("outage", "http", "code"), [("balance", 200, 1008), ("auth", 200, 1004), ("down", 503, 1033)]
)
async def test_outages(sim: Sim, outage: str, http: int, code: int) -> None:
    client = await sim(outages={"minimax": outage})
    response = await client.post(
        "/minimax/v1/video_generation",
        json={"model": "MiniMax-Hailuo-02", "prompt": "p"},
        headers=AUTH,
    )
    assert response.status == http
    answer = await response.json()
    assert answer["base_resp"]["status_code"] == code
    if outage == "balance":
        assert answer["base_resp"]["status_msg"] == "insufficient balance"


async def test_statuses_move_preparing_queueing_processing(sim: Sim) -> None:
    """One slot: the second task shows Preparing, then Queueing, then Processing, then Success."""
    clock = ManualClock()
    client = await sim(clock=clock, max_concurrent=1, gen_seconds=100)
    first = await submit(client, {"model": "MiniMax-Hailuo-02", "prompt": "a"})
    second = await submit(client, {"model": "MiniMax-Hailuo-02", "prompt": "b"})
    seen = [(await query(client, second))["status"]]
    for step in (20, 90, 200):
        clock.advance(step)
        seen.append((await query(client, second))["status"])
    assert seen == ["Preparing", "Queueing", "Processing", "Success"]
    assert (await query(client, first))["status"] == "Success"


async def test_failed_task_says_fail_with_a_base_resp_reason(sim: Sim) -> None:
    client = await sim(task_failure_rate=1.0)
    task_id = await submit(client, {"model": "T2V-01", "prompt": "p"})
    final = (await until_done(client, task_id))[-1]
    assert final["status"] == "Fail" and final["file_id"] == ""
    assert final["base_resp"]["status_code"] == 1000


async def test_expired_download_url_and_a_fresh_retrieve(sim: Sim) -> None:
    clock = ManualClock()
    client = await sim(clock=clock, gen_seconds=1, url_ttl=32_400)
    task_id = await submit(client, {"model": "MiniMax-Hailuo-02", "prompt": "p"})
    clock.advance(2)
    file_id = (await query(client, task_id))["file_id"]
    url = (await retrieve(client, file_id))["file"]["download_url"]
    clock.advance(32_400)
    assert (await download(client, url))[0] == 403
    fresh = (await retrieve(client, file_id))["file"]["download_url"]
    assert (await download(client, fresh))[0] == 200


async def test_an_h3_task_is_unknown_to_the_v1_query(sim: Sim) -> None:
    """Each API answers for its own tasks: a client polling H3 at v1 learns nothing."""
    client = await sim()
    body = {"model": "MiniMax-H3", "content": [{"type": "text", "text": "p"}]}
    created = await client.post(
        "/minimax/v2/video_generation",
        json={**body, "resolution": "768P", "duration": 6, "ratio": "16:9"},
        headers=AUTH,
    )
    task_id = (await created.json())["task_id"]
    assert (await query(client, task_id))["base_resp"]["status_code"] == 2013
