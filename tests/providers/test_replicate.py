"""Replicate adapter: model predictions, prediction readings, RFC 7807 problems.

Fixture shapes (docs/providers/replicate.md): the create answer is the captured official-model
prediction (`version: "hidden"`); statuses per the HTTP reference and the 2025-10-16
changelog (`aborted`); the 429 body as the rate-limit page gives it; `invalid_fields` items
as the 2024-05-01 changelog shows them; the 401 bodies as Replicate's maintainers quote them.
The 402 wording, the 403/404/5xx wording and the E005 moderation text are UNVERIFIED.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import orjson
import pytest

from hailuo_batch.core.http import HttpResponse, SubmitImages, TaskState
from hailuo_batch.core.jobs import ErrorKind, FailureKind, ImageRef, Model, Reference, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers.replicate import ReplicateAdapter

Reply = Callable[..., HttpResponse]
API = "https://api.replicate.com/v1"
FRAME = "https://example.com/frames/car.jpg"
HERO = "data:image/png;base64,aGVybw=="
VIDEO = (
    "https://replicate.delivery/xezq/Qf4ZbYjfRbHMTc3Ipd9ZmZCJ0mUjteQ8lQuVjeP1ZgbVcZtUA/output.mp4"
)


@pytest.fixture
def replicate(api_key: str) -> ReplicateAdapter:
    return ReplicateAdapter("replicate", api_key)


def _request(model: Model, resolution: str = "720P", **fields: Any) -> VideoRequest:
    return replace(VideoRequest(model, "a red fox in snow", 6, resolution), **fields)


IMAGE = ImageRef(FRAME, "url")
# One request per model the table sells at Replicate: the model's path, and its `input`.
REQUESTS: list[tuple[VideoRequest, SubmitImages, str, dict[str, object]]] = [
    (
        _request("hailuo-02", "512P", image=IMAGE),
        SubmitImages(first=FRAME),
        "minimax/hailuo-02",
        {
            "prompt": "a red fox in snow",
            "first_frame_image": FRAME,
            "duration": 6,
            "resolution": "512p",
            "prompt_optimizer": True,
        },
    ),
    (
        _request("hailuo-2.3", "1080P", prompt_optimizer=False),
        SubmitImages(),
        "minimax/hailuo-2.3",
        {
            "prompt": "a red fox in snow",
            "duration": 6,
            "resolution": "1080p",
            "prompt_optimizer": False,
        },
    ),
    (
        _request("video-01"),
        SubmitImages(),
        "minimax/video-01",
        {"prompt": "a red fox in snow", "prompt_optimizer": True},
    ),
    (
        _request("t2v-01"),
        SubmitImages(),
        "minimax/video-01",
        {"prompt": "a red fox in snow", "prompt_optimizer": True},
    ),
    (
        _request("i2v-01", image=IMAGE),
        SubmitImages(first=FRAME),
        "minimax/video-01",
        {"prompt": "a red fox in snow", "first_frame_image": FRAME, "prompt_optimizer": True},
    ),
    (
        _request("s2v-01", subject_reference=ImageRef("/abs/hero.png", "path")),
        SubmitImages(subject=HERO),
        "minimax/video-01",
        {"prompt": "a red fox in snow", "subject_reference": HERO, "prompt_optimizer": True},
    ),
    (
        _request("t2v-01-director"),
        SubmitImages(),
        "minimax/video-01-director",
        {"prompt": "a red fox in snow", "prompt_optimizer": True},
    ),
    (
        _request("i2v-01-director", image=IMAGE),
        SubmitImages(first=FRAME),
        "minimax/video-01-director",
        {"prompt": "a red fox in snow", "first_frame_image": FRAME, "prompt_optimizer": True},
    ),
    (
        _request("i2v-01-live", image=IMAGE),
        SubmitImages(first=FRAME),
        "minimax/video-01-live",
        {"prompt": "a red fox in snow", "first_frame_image": FRAME, "prompt_optimizer": True},
    ),
]


def test_every_model_sold_has_a_request_here(replicate: ReplicateAdapter) -> None:
    assert {row[0].model for row in REQUESTS} == replicate.capabilities.models


@pytest.mark.parametrize(
    ("request_", "images", "model", "fields"), REQUESTS, ids=lambda v: getattr(v, "model", "")
)
def test_each_model_is_created_on_its_own_path(
    replicate: ReplicateAdapter,
    api_key: str,
    request_: VideoRequest,
    images: SubmitImages,
    model: str,
    fields: dict[str, object],
) -> None:
    """The official-model route, with only the fields that model's schema has."""
    req = replicate.submit_request(request_, images)
    assert (req.method, req.url) == ("POST", f"{API}/models/{model}/predictions")
    assert req.headers["Authorization"] == f"Bearer {api_key}"
    assert req.json == {"input": fields}


def test_first_and_last_frames_at_1080p(
    replicate: ReplicateAdapter, frames_request: VideoRequest, frames: SubmitImages
) -> None:
    req = replicate.submit_request(frames_request, frames)
    assert req.json == {
        "input": {
            "prompt": "The car drives off [Pan right]",
            "first_frame_image": frames.first,
            "last_frame_image": frames.last,
            "duration": 6,
            "resolution": "1080p",
            "prompt_optimizer": True,
        }
    }


def test_resolution_is_always_sent_in_lower_case(replicate: ReplicateAdapter) -> None:
    """Hailuo-02's own default is 1080p, the pro tier: leaving it out would change the video."""
    req = replicate.submit_request(_request("hailuo-02", "768P"), SubmitImages())
    assert req.json is not None
    assert req.json["input"] == {
        "prompt": "a red fox in snow",
        "duration": 6,
        "resolution": "768p",
        "prompt_optimizer": True,
    }


@pytest.mark.parametrize(
    ("request_", "images", "unsold"),
    [
        (
            _request("hailuo-2.3", "768P", image=IMAGE, end_image=IMAGE),
            SubmitImages(first=FRAME, last=FRAME),
            "last frame",
        ),
        (
            _request("hailuo-02", "768P", fast_pretreatment=True),
            SubmitImages(),
            "`fast_pretreatment:`",
        ),
        (_request("video-01"), SubmitImages(subject=HERO), "subject reference"),
        (
            _request("hailuo-02", "768P", references=(Reference("image", IMAGE),)),
            SubmitImages(references=(("image", FRAME),)),
            "references",
        ),
        (_request("h3", "768P"), SubmitImages(), "does not sell h3"),
    ],
    ids=["last-frame-2.3", "fast-pretreatment", "subject-video-01", "references", "h3"],
)
def test_what_the_wire_has_no_field_for_is_refused_not_dropped(
    replicate: ReplicateAdapter, request_: VideoRequest, images: SubmitImages, unsold: str
) -> None:
    with pytest.raises(ProviderError) as caught:
        replicate.submit_request(request_, images)
    assert caught.value.kind == "invalid_input"
    assert unsold in caught.value.message


def test_parse_submit_reads_the_created_prediction(
    replicate: ReplicateAdapter, reply: Reply
) -> None:
    assert replicate.parse_submit(reply("replicate", "submit_created", 201)) == (
        "x18c1re8mxrma0crb3x8wbwqmg"
    )


def test_a_create_answer_without_an_id_is_transient(replicate: ReplicateAdapter) -> None:
    with pytest.raises(ProviderError) as caught:
        replicate.parse_submit(HttpResponse(201, b'{"status": "starting"}'))
    assert caught.value.kind == "transient"


def test_poll_request_puts_the_id_in_the_path(api_key: str) -> None:
    adapter = ReplicateAdapter("replicate", api_key, base_url="http://127.0.0.1:8765/replicate")
    assert adapter.poll_request("x18c/../y").url == (
        "http://127.0.0.1:8765/replicate/v1/predictions/x18c%2F..%2Fy"
    )


POLLS: list[tuple[str, TaskState, FailureKind | None]] = [
    ("poll_starting", "queued", None),
    ("poll_processing", "running", None),
    ("poll_succeeded", "succeeded", None),
    ("poll_succeeded_list", "succeeded", None),
    ("poll_failed", "failed", "provider_error"),
    ("poll_failed_sensitive", "failed", "content_policy"),
    ("poll_canceled", "failed", "provider_error"),
    ("poll_aborted", "failed", "provider_error"),
    ("poll_data_removed", "failed", "expired"),
]


@pytest.mark.parametrize(("name", "state", "failure"), POLLS)
def test_parse_poll(
    replicate: ReplicateAdapter,
    reply: Reply,
    name: str,
    state: TaskState,
    failure: FailureKind | None,
) -> None:
    status = replicate.parse_poll(reply("replicate", name))
    assert (status.state, status.failure, status.warning) == (state, failure, None)


def test_success_url_lives_an_hour_from_completion(
    replicate: ReplicateAdapter, reply: Reply
) -> None:
    completed = datetime(2025, 7, 30, 1, 41, 42, 870000, tzinfo=timezone.utc).timestamp()
    for name in ("poll_succeeded", "poll_succeeded_list"):
        status = replicate.parse_poll(reply("replicate", name))
        assert status.video_url == VIDEO
        assert status.url_ttl == 3600.0
        assert status.url_expires_at == pytest.approx(completed + 3600.0)


def test_without_a_readable_completion_time_only_the_ttl_is_known(
    replicate: ReplicateAdapter,
) -> None:
    for stamp in (None, "2025-07-30T01:41:42", "yesterday"):
        body = {"status": "succeeded", "output": VIDEO, "completed_at": stamp}
        status = replicate.parse_poll(HttpResponse(200, orjson.dumps(body)))
        assert (status.url_ttl, status.url_expires_at) == (3600.0, None)


def test_failure_messages(replicate: ReplicateAdapter, reply: Reply) -> None:
    failed = replicate.parse_poll(reply("replicate", "poll_failed"))
    canceled = replicate.parse_poll(reply("replicate", "poll_canceled"))
    removed = replicate.parse_poll(reply("replicate", "poll_data_removed"))
    assert failed.message == "Prediction failed: the upstream video generation task failed"
    assert canceled.message == "prediction canceled"
    assert "deleted" in removed.message


def test_success_without_output_is_not_success(replicate: ReplicateAdapter) -> None:
    body = {"status": "succeeded", "output": None, "data_removed": False}
    status = replicate.parse_poll(HttpResponse(200, orjson.dumps(body)))
    assert (status.state, status.video_url) == ("running", None)
    assert status.warning is not None


def test_unknown_status_keeps_polling(replicate: ReplicateAdapter) -> None:
    status = replicate.parse_poll(HttpResponse(200, b'{"status": "booting"}'))
    assert status.state == "running"
    assert status.warning is not None and "'booting'" in status.warning


def test_status_compare_ignores_case(replicate: ReplicateAdapter) -> None:
    body = {"status": "Succeeded", "output": VIDEO}
    assert replicate.parse_poll(HttpResponse(200, orjson.dumps(body))).video_url == VIDEO


def test_malformed_json_is_transient(replicate: ReplicateAdapter) -> None:
    with pytest.raises(ProviderError) as caught:
        replicate.parse_poll(HttpResponse(200, b'{"id": "x18c1re8mxrma0crb3x8wbwqmg", "sta'))
    assert caught.value.kind == "transient"


ERRORS: list[tuple[str, ErrorKind, str]] = [
    ("error_401_no_token", "auth", "You did not pass an authentication token"),
    ("error_401_invalid_token", "auth", "You did not pass a valid authentication token"),
    ("error_402_insufficient_credit", "quota", "insufficient credit"),
    ("error_403_forbidden", "auth", "permission"),
    ("error_404_not_found", "provider_error", "could not be found"),
    ("error_422_input", "invalid_input", "resolution must be one of the following"),
    ("error_422_invalid_fields", "invalid_input", "input is required"),
    ("error_429_throttled", "rate_limited", "Request was throttled"),
    ("error_500_internal", "transient", "Something went wrong"),
    ("error_503_unavailable", "transient", "temporarily unavailable"),
]


@pytest.mark.parametrize(("name", "kind", "words"), ERRORS)
def test_classify(
    replicate: ReplicateAdapter, reply: Reply, name: str, kind: ErrorKind, words: str
) -> None:
    response = reply("replicate", name)
    error = replicate.classify(response)
    assert (error.kind, error.status) == (kind, response.status)
    assert words in error.message
    for parse in (replicate.parse_submit, replicate.parse_poll):
        with pytest.raises(ProviderError) as caught:
            parse(response)
        assert caught.value.kind == kind


def test_credit_words_make_a_403_quota(replicate: ReplicateAdapter) -> None:
    """The insufficient-credit answer is UNVERIFIED: its words count where 402 is not used."""
    body = b'{"title": "Insufficient credit", "detail": "Add a payment method", "status": 403}'
    assert replicate.classify(HttpResponse(403, body)).kind == "quota"


def test_rate_limit_carries_retry_after(replicate: ReplicateAdapter, reply: Reply) -> None:
    error = replicate.classify(
        reply("replicate", "error_429_throttled", headers={"retry-after": "30"})
    )
    assert (error.kind, error.retry_after) == ("rate_limited", 30.0)


def test_a_gateways_html_502_is_transient(replicate: ReplicateAdapter) -> None:
    error = replicate.classify(HttpResponse(502, b"<html><h1>502 Bad Gateway</h1></html>"))
    assert error.kind == "transient"
    assert "502 Bad Gateway" in error.message


def test_key_never_leaks(replicate: ReplicateAdapter, api_key: str) -> None:
    assert api_key not in repr(replicate.submit_request(_request("video-01"), SubmitImages()))
    body = orjson.dumps({"title": "Unauthenticated", "detail": f"bad token {api_key}"})
    assert api_key not in str(replicate.classify(HttpResponse(401, body)))


def test_every_fixture_is_exercised(recorded: Callable[[str], set[str]]) -> None:
    used = {"submit_created"} | {row[0] for row in POLLS + ERRORS}
    assert recorded("replicate") == used
