"""AI/ML API adapter: current endpoint requests, id leniency, signed-URL expiry, error envelope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import orjson
import pytest

from hailuo_batch.core.http import HttpResponse, SubmitImages, TaskState
from hailuo_batch.core.jobs import ErrorKind, FailureKind, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers.aimlapi import AimlapiAdapter

Reply = Callable[..., HttpResponse]
ENDPOINT = "https://api.aimlapi.com/v2/video/generations"


@pytest.fixture
def aimlapi(api_key: str) -> AimlapiAdapter:
    return AimlapiAdapter("aimlapi", api_key)


def _poll(body: dict[str, object]) -> HttpResponse:
    return HttpResponse(200, orjson.dumps({"id": "g-1", **body}))


def test_text_to_video_request(
    aimlapi: AimlapiAdapter, api_key: str, text_request: VideoRequest
) -> None:
    req = aimlapi.submit_request(replace(text_request, fast_pretreatment=False), SubmitImages())
    assert (req.method, req.url) == ("POST", ENDPOINT)
    assert req.headers["Authorization"] == f"Bearer {api_key}"
    assert req.json == {
        "model": "minimax/hailuo-02",
        "prompt": "A cat walks through a neon alley [Push in]",
        "resolution": "768P",
        "duration": 10,
        "enhance_prompt": False,
    }


def test_fast_pretreatment_is_refused_not_dropped(
    aimlapi: AimlapiAdapter, text_request: VideoRequest
) -> None:
    """No Hailuo schema here has the field: sending without it would change the video."""
    with pytest.raises(ProviderError, match="fast_pretreatment") as caught:
        aimlapi.submit_request(text_request, SubmitImages())
    assert caught.value.kind == "invalid_input"


def test_first_and_last_frame_request(
    aimlapi: AimlapiAdapter, frames_request: VideoRequest, frames: SubmitImages
) -> None:
    req = aimlapi.submit_request(frames_request, frames)
    assert req.json == {
        "model": "minimax/hailuo-02",
        "prompt": "The car drives off [Pan right]",
        "image_url": frames.first,
        "last_image_url": frames.last,
        "resolution": "1080P",
        "duration": 6,
        "enhance_prompt": True,
    }


def test_video01_request(aimlapi: AimlapiAdapter, video01_request: VideoRequest) -> None:
    req = aimlapi.submit_request(video01_request, SubmitImages(first="https://x.test/a.png"))
    assert req.json == {
        "model": "video-01",
        "prompt": "a red fox in snow",
        "image_url": "https://x.test/a.png",
        "enhance_prompt": True,
    }


SUBMITS: list[tuple[str, str]] = [
    ("submit_generation_id", "282052359471184"),
    ("submit_generation_id_meta", "349865017168125:minimax/hailuo-2.3"),
    ("submit_id", "282052359471184"),
]


@pytest.mark.parametrize(("name", "task_id"), SUBMITS)
def test_parse_submit(aimlapi: AimlapiAdapter, reply: Reply, name: str, task_id: str) -> None:
    assert aimlapi.parse_submit(reply("aimlapi", name)) == task_id


def test_only_a_string_id_counts(aimlapi: AimlapiAdapter, reply: Reply) -> None:
    """As in the aimlapi SDK: a numeric `generation_id` is not an id."""
    with pytest.raises(ProviderError) as caught:
        aimlapi.parse_submit(reply("aimlapi", "submit_numeric_id"))
    assert caught.value.kind == "transient"


def test_poll_request_encodes_the_id(api_key: str) -> None:
    adapter = AimlapiAdapter("aimlapi", api_key, base_url="http://127.0.0.1:8765/aimlapi")
    assert adapter.poll_request("349865017168125:minimax/hailuo-2.3").url == (
        "http://127.0.0.1:8765/aimlapi/v2/video/generations"
        "?generation_id=349865017168125%3Aminimax%2Fhailuo-2.3"
    )


POLLS: list[tuple[str, TaskState, FailureKind | None]] = [
    ("poll_queued", "queued", None),
    ("poll_waiting", "queued", None),
    ("poll_generating", "running", None),
    ("poll_active", "running", None),
    ("poll_completed", "succeeded", None),
    ("poll_succeeded_list", "succeeded", None),
    ("poll_error", "failed", "provider_error"),
    ("poll_error_detail", "failed", "provider_error"),
    ("poll_error_sensitive", "failed", "content_policy"),
]


@pytest.mark.parametrize(("name", "state", "failure"), POLLS)
def test_parse_poll(
    aimlapi: AimlapiAdapter, reply: Reply, name: str, state: TaskState, failure: FailureKind | None
) -> None:
    status = aimlapi.parse_poll(reply("aimlapi", name))
    assert (status.state, status.failure, status.warning) == (state, failure, None)


def test_completed_carries_url_and_its_expiry(aimlapi: AimlapiAdapter, reply: Reply) -> None:
    status = aimlapi.parse_poll(reply("aimlapi", "poll_completed"))
    assert status.video_url is not None
    assert status.video_url.startswith("https://cdn.aimlapi.com/whale/inference_output%2Fvideo")
    assert (status.url_expires_at, status.url_ttl) == (1750446300.0, None)


def test_other_url_shapes_are_found(aimlapi: AimlapiAdapter, reply: Reply) -> None:
    status = aimlapi.parse_poll(reply("aimlapi", "poll_succeeded_list"))
    assert (status.video_url, status.url_expires_at) == (
        "https://cdn.aimlapi.com/whale/other/output.mp4",
        None,
    )


def test_error_messages(aimlapi: AimlapiAdapter, reply: Reply) -> None:
    plain = aimlapi.parse_poll(reply("aimlapi", "poll_error"))
    passed_through = aimlapi.parse_poll(reply("aimlapi", "poll_error_detail"))
    assert plain.message == "upstream generation failed"
    assert "image aspect ratio out of range" in passed_through.message


def test_status_compare_ignores_case(aimlapi: AimlapiAdapter) -> None:
    status = aimlapi.parse_poll(
        _poll({"status": "Completed", "video": {"url": "https://a.test/v"}})
    )
    assert (status.state, status.video_url) == ("succeeded", "https://a.test/v")


def test_unknown_status_keeps_polling(aimlapi: AimlapiAdapter) -> None:
    status = aimlapi.parse_poll(_poll({"status": "moderating"}))
    assert status.state == "running"
    assert status.warning is not None
    assert "moderating" in status.warning


def test_completed_without_url_is_not_success(aimlapi: AimlapiAdapter) -> None:
    status = aimlapi.parse_poll(_poll({"status": "completed", "video": None}))
    assert (status.state, status.video_url) == ("running", None)


def test_malformed_json_is_transient(aimlapi: AimlapiAdapter) -> None:
    with pytest.raises(ProviderError) as caught:
        aimlapi.parse_submit(HttpResponse(201, b'{"generation_id": "1"'))
    assert caught.value.kind == "transient"


ERRORS: list[tuple[str, ErrorKind]] = [
    ("error_400_validation", "invalid_input"),
    ("error_401_unauthorized", "auth"),
    ("error_403_credits", "quota"),
    ("error_403_key", "auth"),
    ("error_404_not_found", "provider_error"),
    ("error_429_too_many", "rate_limited"),
    ("error_500_internal", "transient"),
    ("error_502_bad_gateway", "transient"),
    ("error_503_unavailable", "transient"),
    ("error_504_generation_timeout", "transient"),
]


@pytest.mark.parametrize(("name", "kind"), ERRORS)
def test_classify(aimlapi: AimlapiAdapter, reply: Reply, name: str, kind: ErrorKind) -> None:
    response = reply("aimlapi", name)
    error = aimlapi.classify(response)
    body = orjson.loads(response.body)
    assert (error.kind, error.status) == (kind, response.status)
    assert body["message"] in error.message
    assert f"requestId {body['requestId']}" in error.message
    with pytest.raises(ProviderError) as caught:
        aimlapi.parse_poll(response)
    assert caught.value.kind == kind


def test_rate_limit_carries_retry_after(aimlapi: AimlapiAdapter, reply: Reply) -> None:
    headers = {
        "retry-after": "Wed, 10 Dec 2025 10:00:30 GMT",
        "date": "Wed, 10 Dec 2025 10:00:00 GMT",
    }
    error = aimlapi.classify(reply("aimlapi", "error_429_too_many", headers=headers))
    assert (error.kind, error.retry_after) == ("rate_limited", 30.0)


def test_long_bodies_are_truncated(aimlapi: AimlapiAdapter) -> None:
    error = aimlapi.classify(HttpResponse(500, b"x" * 10_000))
    assert len(error.message) <= 500


def test_key_never_leaks(aimlapi: AimlapiAdapter, api_key: str, text_request: VideoRequest) -> None:
    request = replace(text_request, fast_pretreatment=False)
    assert api_key not in repr(aimlapi.submit_request(request, SubmitImages()))
    body = orjson.dumps({"message": f"Invalid API key {api_key}", "statusCode": 401})
    error = aimlapi.classify(HttpResponse(401, body))
    assert api_key not in str(error)
    assert error.kind == "auth"


def test_every_fixture_is_exercised(recorded: Callable[[str], set[str]]) -> None:
    used = {row[0] for row in SUBMITS} | {row[0] for row in POLLS} | {row[0] for row in ERRORS}
    assert recorded("aimlapi") == used | {"submit_numeric_id"}
