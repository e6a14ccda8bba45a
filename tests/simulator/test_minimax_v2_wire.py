"""MiniMax's V2 API (H3) as the simulator serves it: at MiniMax, and passed through at Novita.

Raw HTTP built from docs/providers/minimax.md sections 8, 9 and 12 and novita.md section 7.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import av
import pytest
from simwire import AUTH, KEY, Client, ManualClock, Sim, data_uri, download, probe, stats, wait_for

MINIMAX = "/minimax"
NOVITA = "/novita/v3/minimax"
ROOTS = [pytest.param(MINIMAX, id="minimax"), pytest.param(NOVITA, id="novita")]
URL = "https://cdn.example/ref.png"


def text(prompt: str = "A boy playing basketball by the sea") -> dict[str, Any]:
    return {"type": "text", "text": prompt}


def image(url: str, role: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
    return {**item, "role": role} if role else item


def media(kind: str, role: str | None = None) -> dict[str, Any]:
    role = role or {"video_url": "reference_video", "audio_url": "reference_audio"}[kind]
    return {"type": kind, kind: {"url": f"https://cdn.example/ref.{kind[:5]}"}, "role": role}


def body(*items: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A MiniMax-H3 body: a text item first unless `items` are given."""
    fields = {"model": "MiniMax-H3", "resolution": "768P", "duration": 6, "ratio": "16:9", **fields}
    return {**fields, "content": list(items) or [text()]}


async def create(client: Client, root: str, payload: dict[str, Any]) -> str:
    response = await client.post(f"{root}/v2/video_generation", json=payload, headers=AUTH)
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert set(answer) == {"task_id"}
    task_id: str = answer["task_id"]
    assert task_id.isdigit()
    return task_id


async def query(client: Client, root: str, task_id: str) -> tuple[int, dict[str, Any]]:
    response = await client.get(f"{root}/v2/query/video_generation/{task_id}", headers=AUTH)
    answer: dict[str, Any] = await response.json()
    return response.status, answer


async def finished(client: Client, root: str, task_id: str) -> list[dict[str, Any]]:
    """Every `task` seen until it ended."""

    async def task() -> dict[str, Any]:
        status, answer = await query(client, root, task_id)
        assert status == 200, answer
        found: dict[str, Any] = answer["task"]
        return found

    return await wait_for(task, lambda t: t["status"] not in ("queued", "running"))


async def video(client: Client, root: str, payload: dict[str, Any]) -> bytes:
    """Create, query until succeeded, download."""
    final = (await finished(client, root, await create(client, root, payload)))[-1]
    assert final["status"] == "succeeded", final
    status, content_type, data = await download(client, final["content"]["url"])
    assert (status, content_type) == (200, "video/mp4")
    return data


def audio_codec(data: bytes) -> str | None:
    with av.open(io.BytesIO(data)) as container:
        streams = container.streams.audio
        return streams[0].codec_context.name if streams else None


@pytest.mark.parametrize("root", ROOTS)
async def test_a_task_goes_queued_running_succeeded_with_its_video(sim: Sim, root: str) -> None:
    """The task object as documented; the video is 2K (2560x1440 here, UNVERIFIED), with
    sound, and the task shows back its resolution, duration, ratio and usage."""
    client = await sim(max_concurrent=1)
    await create(client, root, body(resolution="2K", duration=5))  # holds the one slot
    task_id = await create(client, root, body(resolution="2K", duration=5))
    seen = await finished(client, root, task_id)

    assert seen[0]["status"] == "queued"
    assert "running" in [t["status"] for t in seen]
    final = seen[-1]
    assert final["id"] == task_id and final["model"] == "MiniMax-H3"
    assert (final["resolution"], final["duration"], final["ratio"]) == ("2K", 5, "16:9")
    assert (final["task_type"], final["modality"]) == ("generation", "video")
    assert final["updated_at"] >= final["created_at"] > 1_700_000_000
    assert all(t["usage"] == {} and "content" not in t for t in seen[:-1])
    assert final["usage"] == {
        "total_seconds": 5,
        "input_seconds": 0,
        "output_seconds": 5,
        "input_image_count": 0,
    }
    url = final["content"]["url"]
    assert "/cdn/inference_output/rollout/" in url and url.endswith("/output.mp4")
    data = (await download(client, url))[2]
    facts = probe(data)
    assert (facts.codec, facts.width, facts.height) == ("h264", 2560, 1440)
    assert facts.duration == pytest.approx(5.0, abs=0.05)
    assert audio_codec(data) == "aac"


@pytest.mark.parametrize(
    ("payload", "size"),
    [
        (body(ratio="9:16"), (768, 1366)),
        (body(resolution="2K", ratio="21:9"), (3360, 1440)),
        (body(text(), image(data_uri(720, 1280)), ratio="16:9"), (768, 1366)),  # ratio ignored
        (body(text(), image(data_uri(1280, 960), "last_frame")), (1024, 768)),  # last alone
        (body(text(), image(URL, "reference_image"), ratio="adaptive"), (1366, 768)),
        (body(model="MiniMax-H3-Max", resolution="480P", duration=5), (854, 480)),
    ],
    ids=["ratio", "2K-ratio", "first-frame", "last-frame", "references", "h3-max"],
)
async def test_the_frame_follows_an_image_else_the_ratio(
    sim: Sim, payload: dict[str, Any], size: tuple[int, int]
) -> None:
    data = await video(await sim(), MINIMAX, payload)
    assert (probe(data).width, probe(data).height) == size
    assert audio_codec(data) == "aac"


ITEM = image(URL, "reference_image")


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        (body(text(""), ITEM), "non-empty text item"),
        (body(ITEM), "non-empty text item"),
        (body(text(), text()), "non-empty text item"),
        (body(text("x" * 7001)), "7000"),
        ({**body(), "content": []}, "content"),
        ({**body(), "prompt_optimizer": True}, "prompt_optimizer"),  # H3 has none
        ({**body(), "resolution": None}, "resolution"),
        ({**body(), "duration": None}, "duration"),
        (body(resolution="1080P"), "resolution"),
        (body(duration=16), "duration"),
        (body(duration=3), "duration"),
        (body(duration="6"), "duration"),
        (body(ratio="adaptive"), "adaptive"),
        (body(ratio="2:1"), "ratio"),
        (body(model="MiniMax-H3-Max", duration=4), "duration"),
        (body(text(), ITEM, model="MiniMax-H3-Max"), "no reference"),
        (body(model="MiniMax-Hailuo-02"), "model"),
        (body(text(), image(URL, "first_frame"), ITEM), "cannot be combined"),
        (body(text(), image(URL, "first_frame"), image(URL, "first_frame")), "one first_frame"),
        (body(text(), image(URL), image(URL)), "role"),
        (body(text(), image(URL, "base_video")), "role"),
        (body(text(), *[ITEM] * 10), "at most 9"),
        (body(text(), ITEM, *[media("video_url")] * 4), "at most 3"),
        (body(text(), *[ITEM] * 9, *[media("video_url")] * 3, media("audio_url")), "12"),
        (body(text(), media("audio_url")), "reference audio needs"),
        (body(text(), media("video_url", "reference_image")), "reference_video"),
        (body(text(), image(data_uri(200, 1000), "reference_image")), "short side"),
        (body(text(), image("aGVsbG8=")), "URL"),
    ],
)
async def test_bad_bodies_get_a_400_with_code_2013(
    sim: Sim, payload: dict[str, Any], needle: str
) -> None:
    """An OpenAI-style error: the code ends the message, `http_code` is a string."""
    client = await sim()
    response = await client.post(f"{MINIMAX}/v2/video_generation", json=payload, headers=AUTH)
    assert response.status == 400
    answer = await response.json()
    assert answer["type"] == "error" and len(answer["request_id"]) == 32
    error = answer["error"]
    assert (error["type"], error["http_code"]) == ("bad_request_error", "400")
    assert error["message"].startswith("invalid params") and error["message"].endswith("(2013)")
    assert needle in error["message"]
    assert (await stats(client))["submitted"] == 0


@pytest.mark.parametrize(
    ("settings", "headers", "status", "error_type", "code"),
    [
        ({"valid_keys": {"minimax": KEY}}, {}, 401, "authorized_error", 1004),
        (
            {"valid_keys": {"minimax": KEY}},
            {"Authorization": "Bearer no"},
            401,
            "authorized_error",
            1004,
        ),
        ({"outages": {"minimax": "balance"}}, AUTH, 402, "insufficient_balance_error", 1008),
        ({"outages": {"minimax": "down"}}, AUTH, 503, "server_error", 1033),
        ({"fault_rate": 1.0, "faults": ("rate-limit",)}, AUTH, 429, "rate_limit_error", 1002),
        (
            {"fault_rate": 1.0, "faults": ("server-error",), "seed": 3},
            AUTH,
            500,
            "server_error",
            1000,
        ),
    ],
)
async def test_refusals_are_v2_errors_under_real_statuses(
    sim: Sim,
    settings: dict[str, Any],
    headers: dict[str, str],
    status: int,
    error_type: str,
    code: int,
) -> None:
    client = await sim(**settings)
    response = await client.post(f"{MINIMAX}/v2/video_generation", json=body(), headers=headers)
    assert response.status == status
    error = (await response.json())["error"]
    assert (error["type"], error["http_code"]) == (error_type, str(status))
    assert error["message"].endswith(f"({code})")


async def test_unknown_and_v1_task_ids_are_invalid_at_the_v2_query(sim: Sim) -> None:
    """A never-issued id (body UNVERIFIED: a 400 assumed) and a v1 task's id alike."""
    client = await sim()
    created = await client.post(
        "/minimax/v1/video_generation",
        json={"model": "MiniMax-Hailuo-02", "prompt": "p"},
        headers=AUTH,
    )
    v1_task = (await created.json())["task_id"]
    for task_id in ("123456789012345", v1_task):
        status, answer = await query(client, MINIMAX, task_id)
        assert status == 400
        assert answer["error"]["message"] == "invalid params, invalid task_id (2013)"


async def test_a_failed_task_has_a_string_error_code(sim: Sim) -> None:
    client = await sim(task_failure_rate=1.0)
    final = (await finished(client, MINIMAX, await create(client, MINIMAX, body())))[-1]
    assert final["status"] == "failed" and "content" not in final
    assert final["error"] == {"code": "1000", "message": "unknown error, please retry"}


async def test_a_fresh_query_gives_a_fresh_url(sim: Sim) -> None:
    """The URL's lifetime is not stated; querying again gives a new one (H)."""
    clock = ManualClock()
    client = await sim(clock=clock, gen_seconds=1, url_ttl=600)
    task_id = await create(client, MINIMAX, body())
    clock.advance(2)
    old = (await query(client, MINIMAX, task_id))[1]["task"]["content"]["url"]
    clock.advance(600)
    assert (await download(client, old))[0] == 403
    fresh = (await query(client, MINIMAX, task_id))[1]["task"]["content"]["url"]
    assert (await download(client, fresh))[0] == 200


async def test_novita_passes_h3_only_and_refuses_in_its_own_envelope(sim: Sim) -> None:
    """Which envelope Novita's H3 errors come in is UNVERIFIED: the simulator keeps
    Novita's; H3-Max is MiniMax's alone; HighwayAPI has no H3 route at all."""
    client = await sim()
    for payload in (body(model="MiniMax-H3-Max", resolution="480P"), body(duration=16)):
        response = await client.post(f"{NOVITA}/v2/video_generation", json=payload, headers=AUTH)
        assert response.status == 400
        assert (await response.json())["reason"] == "INVALID_REQUEST_BODY"
    status, answer = await query(client, NOVITA, "123456789012345")
    assert (status, answer["reason"]) == (404, "TASK_NOT_FOUND")
    missing = await client.post("/highway/v3/minimax/v2/video_generation", json=body())
    assert missing.status == 404


async def test_an_h3_task_keeps_its_sound_across_a_restart(sim: Sim, tmp_path: Path) -> None:
    state_file = str(tmp_path / "tasks.jsonl")
    first = await sim(ManualClock(), state_file=state_file, gen_seconds=1.0)
    task_id = await create(first, MINIMAX, body(duration=4))
    await first.close()

    clock = ManualClock()
    second = await sim(clock, state_file=state_file, gen_seconds=1.0)
    clock.advance(5.0)
    final = (await finished(second, MINIMAX, task_id))[-1]
    assert (final["duration"], final["ratio"]) == (4, "16:9")
    data = (await download(second, final["content"]["url"]))[2]
    assert audio_codec(data) == "aac"
