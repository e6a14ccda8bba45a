"""AI/ML API adapter: current endpoint requests, id leniency, signed-URL expiry, error envelope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import orjson
import pytest

from hailuo_batch.core.http import HttpResponse, SubmitImages, TaskState
from hailuo_batch.core.jobs import ErrorKind, FailureKind, Model, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers.aimlapi import AimlapiAdapter

Reply = Callable[..., HttpResponse]
ENDPOINT = "https://api.aimlapi.com/v2/video/generations"
FIRST = "https://x.test/a.png"
LOCAL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ"


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


@pytest.mark.parametrize("model", ["hailuo-02", "hailuo-2.3", "hailuo-2.3-fast"])
def test_fast_pretreatment_is_refused_not_dropped(
    aimlapi: AimlapiAdapter, text_request: VideoRequest, model: Model
) -> None:
    """No Hailuo schema here has the field: sending without it would change the video."""
    request = replace(text_request, model=model)
    with pytest.raises(ProviderError, match="fast_pretreatment") as caught:
        aimlapi.submit_request(request, SubmitImages(first=FIRST))
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


@pytest.mark.parametrize(
    ("model", "wire", "first"),
    [
        ("hailuo-2.3", "minimax/hailuo-2.3", None),
        ("hailuo-2.3", "minimax/hailuo-2.3", FIRST),
        ("hailuo-2.3-fast", "minimax/hailuo-2.3-fast", FIRST),
    ],
)
def test_hailuo_23_request(
    aimlapi: AimlapiAdapter, model: Model, wire: str, first: str | None
) -> None:
    """2.3 and 2.3-Fast take 02's fields without a last frame (`minimax/hailuo-2.3*.json`)."""
    request = VideoRequest(model, "koi at dawn", 10, "768P", prompt_optimizer=False)
    req = aimlapi.submit_request(request, SubmitImages(first=first))
    assert req.json == {
        "model": wire,
        "prompt": "koi at dawn",
        **({"image_url": first} if first else {}),
        "resolution": "768P",
        "duration": 10,
        "enhance_prompt": False,
    }


def test_hailuo_23_refuses_a_last_frame(aimlapi: AimlapiAdapter, frames: SubmitImages) -> None:
    request = VideoRequest("hailuo-2.3", "p", 6, "768P")
    with pytest.raises(ProviderError, match="last frame") as caught:
        aimlapi.submit_request(request, frames)
    assert caught.value.kind == "invalid_input"


@pytest.mark.parametrize(
    ("model", "wire", "first"),
    [
        ("video-01", "video-01", FIRST),
        ("t2v-01", "video-01", None),
        ("i2v-01", "video-01", FIRST),
        ("i2v-01-live", "video-01-live2d", FIRST),
    ],
)
def test_01_family_request(
    aimlapi: AimlapiAdapter, model: Model, wire: str, first: str | None
) -> None:
    """The 01 schemas take prompt, first frame and optimizer only: 6 s at 720P."""
    request = VideoRequest(model, "a red fox in snow", 6, "720P")
    req = aimlapi.submit_request(request, SubmitImages(first=first))
    assert req.json == {
        "model": wire,
        "prompt": "a red fox in snow",
        **({"image_url": first} if first else {}),
        "enhance_prompt": True,
    }


def test_h3_frames_request(aimlapi: AimlapiAdapter, frames: SubmitImages) -> None:
    """H3: 2K, 4-15 s, frames under 02's names, `ratio` as set; no optimizer field."""
    request = VideoRequest("h3", "x" * 7000, 15, "2K", ratio="9:16")
    req = aimlapi.submit_request(request, frames)
    assert req.json == {
        "model": "minimax/h3",
        "prompt": "x" * 7000,
        "image_url": frames.first,
        "last_image_url": frames.last,
        "duration": 15,
        "resolution": "2K",
        "ratio": "9:16",
    }


def test_h3_references_request(aimlapi: AimlapiAdapter) -> None:
    """References go to flat URL lists by kind, in order; `ratio` unset is left out."""
    images = SubmitImages(
        references=(
            ("image", "https://x.test/a.png"),
            ("video", "https://x.test/v.mp4"),
            ("image", LOCAL),
            ("audio", "https://x.test/voice.mp3"),
        )
    )
    req = aimlapi.submit_request(VideoRequest("h3", "they talk", 6, "2K"), images)
    assert req.json == {
        "model": "minimax/h3",
        "prompt": "they talk",
        "reference_image_urls": ["https://x.test/a.png", LOCAL],
        "video_urls": ["https://x.test/v.mp4"],
        "audio_urls": ["https://x.test/voice.mp3"],
        "duration": 6,
        "resolution": "2K",
    }


SUBMITS: list[tuple[str, str]] = [
    ("submit_generation_id", "282052359471184"),
    ("submit_generation_id_meta", "349865017168125:minimax/hailuo-2.3"),
    ("submit_id", "282052359471184"),
    ("submit_id_h3", "60ac7c34-3224-4b14-8e7d-0aa0db708325"),
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
    ("poll_completed_2_3", "succeeded", None),
    ("poll_completed_h3", "succeeded", None),
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


CHARGES: list[tuple[str, float | None]] = [
    ("poll_completed", 0.06),  # 120,000 credits
    ("poll_completed_2_3", 0.294),  # 588,000 credits: 1.05 x MiniMax's $0.28
    ("poll_completed_h3", 0.06),  # `usd_spent`
    ("poll_succeeded_list", None),  # no `meta`: the cost is unknown, not zero
]


@pytest.mark.parametrize(("name", "usd"), CHARGES)
def test_completed_carries_what_it_cost(
    aimlapi: AimlapiAdapter, reply: Reply, name: str, usd: float | None
) -> None:
    """`meta.usage` becomes `charged_usd`, which the engine journals with the video."""
    assert aimlapi.parse_poll(reply("aimlapi", name)).charged_usd == usd


def test_usd_spent_wins_over_credits(aimlapi: AimlapiAdapter) -> None:
    usage = {"credits_used": 1_000_000, "usd_spent": 0.55}
    status = aimlapi.parse_poll(_poll({"status": "generating", "meta": {"usage": usage}}))
    assert (status.state, status.charged_usd) == ("running", 0.55)


def test_h3_completed_ignores_a_placeholder_error(aimlapi: AimlapiAdapter, reply: Reply) -> None:
    """The H3 page's example carries an `error` object beside its video: the status decides."""
    status = aimlapi.parse_poll(reply("aimlapi", "poll_completed_h3"))
    assert status.video_url == (
        "https://cdn.aimlapi.com/generations/hedgehog/"
        "1759866285599-0cdfb138-c03a-49d4-a601-4f6413e27b15.mp4"
    )
    assert (status.url_expires_at, status.message) == (None, "")


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
