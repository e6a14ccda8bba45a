"""fal adapter: one endpoint per model, tier and mode; COMPLETED then the result GET decides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from hailuo_batch.core.capabilities import CAPABILITIES_BY_PROVIDER
from hailuo_batch.core.http import HttpResponse, SubmitImages, TaskState, TaskStatus
from hailuo_batch.core.jobs import ErrorKind, FailureKind, ImageRef, Model, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers import TaskFinder
from hailuo_batch.providers.fal import APP, FalAdapter

Reply = Callable[..., HttpResponse]
QUEUE = "https://queue.fal.run"
REQUEST_ID = "80e732af-660e-45cd-bd63-580e4f2a94cc"
FIRST = "https://example.com/frames/car.jpg"
LAST = "data:image/png;base64,iVBORw0KGgo="
SUBJECT = "https://example.com/hero.png"
URL_IMAGE = ImageRef(FIRST, "url")


@pytest.fixture
def fal(api_key: str) -> FalAdapter:
    return FalAdapter("fal", api_key)


def _request(model: Model, resolution: str, duration: int = 6, **fields: Any) -> VideoRequest:
    return VideoRequest(model, "a fox in snow", duration, resolution, **fields)


def _answer(status: int, body: object, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, orjson.dumps(body), headers or {})


# -- requests: the endpoint and its fields ------------------------------------------------

FRAMES = SubmitImages(first=FIRST)
SUBMITS: list[tuple[VideoRequest, SubmitImages, str, dict[str, object]]] = [
    (
        _request("hailuo-02", "768P", 10, prompt_optimizer=False),
        SubmitImages(),
        "hailuo-02/standard/text-to-video",
        {"duration": "10", "prompt_optimizer": False},
    ),
    (
        _request("hailuo-02", "512P", image=URL_IMAGE),
        FRAMES,
        "hailuo-02/standard/image-to-video",
        {"image_url": FIRST, "duration": "6", "resolution": "512P", "prompt_optimizer": True},
    ),
    (
        _request("hailuo-02", "768P", image=URL_IMAGE),
        SubmitImages(first=FIRST, last=LAST),
        "hailuo-02/standard/image-to-video",
        {
            "image_url": FIRST,
            "end_image_url": LAST,
            "duration": "6",
            "resolution": "768P",
            "prompt_optimizer": True,
        },
    ),
    (_request("hailuo-02", "1080P"), SubmitImages(), "hailuo-02/pro/text-to-video", {}),
    (
        _request("hailuo-02", "1080P", image=URL_IMAGE),
        SubmitImages(first=FIRST, last=LAST),
        "hailuo-02/pro/image-to-video",
        {"image_url": FIRST, "end_image_url": LAST},
    ),
    (
        _request("hailuo-2.3", "768P", 10),
        SubmitImages(),
        "hailuo-2.3/standard/text-to-video",
        {"duration": "10"},
    ),
    (
        _request("hailuo-2.3", "768P", image=URL_IMAGE),
        FRAMES,
        "hailuo-2.3/standard/image-to-video",
        {"image_url": FIRST, "duration": "6"},
    ),
    (_request("hailuo-2.3", "1080P"), SubmitImages(), "hailuo-2.3/pro/text-to-video", {}),
    (
        _request("hailuo-2.3", "1080P", image=URL_IMAGE),
        FRAMES,
        "hailuo-2.3/pro/image-to-video",
        {"image_url": FIRST},
    ),
    (
        _request("hailuo-2.3-fast", "768P", 10, image=URL_IMAGE),
        FRAMES,
        "hailuo-2.3-fast/standard/image-to-video",
        {"image_url": FIRST, "duration": "10"},
    ),
    (
        _request("hailuo-2.3-fast", "1080P", image=URL_IMAGE),
        FRAMES,
        "hailuo-2.3-fast/pro/image-to-video",
        {"image_url": FIRST},
    ),
    (_request("video-01", "720P"), SubmitImages(), "video-01", {}),
    (
        _request("video-01", "720P", image=URL_IMAGE),
        FRAMES,
        "video-01/image-to-video",
        {"image_url": FIRST},
    ),
    (_request("t2v-01", "720P"), SubmitImages(), "video-01", {}),
    (
        _request("i2v-01", "720P", image=URL_IMAGE),
        FRAMES,
        "video-01/image-to-video",
        {"image_url": FIRST},
    ),
    (_request("t2v-01-director", "720P"), SubmitImages(), "video-01-director", {}),
    (
        _request("i2v-01-director", "720P", image=URL_IMAGE),
        FRAMES,
        "video-01-director/image-to-video",
        {"image_url": FIRST},
    ),
    (
        _request("i2v-01-live", "720P", image=URL_IMAGE),
        FRAMES,
        "video-01-live/image-to-video",
        {"image_url": FIRST},
    ),
    (
        _request("s2v-01", "720P", subject_reference=ImageRef(SUBJECT, "url")),
        SubmitImages(subject=SUBJECT),
        "video-01-subject-reference",
        {"subject_reference_image_url": SUBJECT},
    ),
]


@pytest.mark.parametrize(
    ("request_", "images", "path", "fields"),
    SUBMITS,
    ids=[f"{row[0].model}-{row[2]}-{row[0].resolution}" for row in SUBMITS],
)
def test_submit_goes_to_the_endpoint_with_its_fields_only(
    fal: FalAdapter,
    request_: VideoRequest,
    images: SubmitImages,
    path: str,
    fields: dict[str, object],
) -> None:
    """Tier by resolution, mode by the first frame; `duration` a string where it exists."""
    req = fal.submit_request(request_, images)
    assert (req.method, req.url) == ("POST", f"{QUEUE}/{APP}/{path}")
    assert req.json == {"prompt": "a fox in snow", "prompt_optimizer": True, **fields}


def test_the_submit_cases_reach_every_endpoint_of_the_table() -> None:
    """Sixteen endpoints, all under one owner and app (the status and result URLs' prefix)."""
    assert len({row[2] for row in SUBMITS}) == 16
    offers = CAPABILITIES_BY_PROVIDER["fal"].offers
    assert {row[0].model for row in SUBMITS} == set(offers)
    assert all(offer.wire.startswith(f"{APP}/") for offer in offers.values())


def test_the_key_goes_in_a_key_header(fal: FalAdapter, api_key: str) -> None:
    req = fal.submit_request(_request("hailuo-02", "768P"), SubmitImages())
    assert req.headers["Authorization"] == f"Key {api_key}"
    assert api_key not in repr(req)


REFUSED_UNSENT: list[tuple[VideoRequest, SubmitImages, str]] = [
    (_request("hailuo-02", "1080P", 10), SubmitImages(), "6 s videos only"),
    (_request("hailuo-02", "512P"), SubmitImages(), "768P only"),
    (_request("t2v-01", "720P", image=URL_IMAGE), FRAMES, "no `image_url`"),
    (_request("i2v-01", "720P"), SubmitImages(), "needs `image_url`"),
    (_request("s2v-01", "720P"), SubmitImages(), "needs `subject_reference_image_url`"),
    (_request("hailuo-02", "768P"), SubmitImages(subject=SUBJECT), "no subject reference"),
    (_request("hailuo-02", "768P"), SubmitImages(last=LAST), "no `end_image_url`"),
    (_request("hailuo-2.3", "768P", image=URL_IMAGE), SubmitImages(FIRST, LAST), "last frame"),
    (_request("hailuo-02", "768P", fast_pretreatment=True), SubmitImages(), "fast_pretreatment"),
    (_request("h3", "768P"), SubmitImages(), "does not sell h3"),
]


@pytest.mark.parametrize(("request_", "images", "why"), REFUSED_UNSENT)
def test_what_an_endpoint_cannot_make_is_refused_unsent(
    fal: FalAdapter, request_: VideoRequest, images: SubmitImages, why: str
) -> None:
    """fal's runner would refuse it after charging, or drop a field it has not: never sent."""
    with pytest.raises(ProviderError) as caught:
        fal.submit_request(request_, images)
    assert caught.value.kind == "invalid_input"
    assert why in caught.value.message


def test_base_url_replaces_the_origin(api_key: str) -> None:
    adapter = FalAdapter("fal", api_key, base_url="http://127.0.0.1:8765/fal/")
    assert adapter.poll_request(REQUEST_ID).url == (
        f"http://127.0.0.1:8765/fal/{APP}/requests/{REQUEST_ID}/status"
    )


# -- submit and status answers ----------------------------------------------------------


def test_the_task_id_is_the_request_id_and_gives_the_status_url(
    fal: FalAdapter, reply: Reply
) -> None:
    """The derived status URL is the one fal's submit answer names."""
    answer = reply("fal", "submit_ok")
    task_id = fal.parse_submit(answer)
    assert task_id == REQUEST_ID
    assert fal.poll_request(task_id).url == orjson.loads(answer.body)["status_url"]


@pytest.mark.parametrize("body", [b'{"status": "IN_QUEUE"}', b'{"request_id": ', b"[]"])
def test_a_submit_answer_without_a_request_id_is_transient(fal: FalAdapter, body: bytes) -> None:
    with pytest.raises(ProviderError) as caught:
        fal.parse_submit(HttpResponse(200, body))
    assert caught.value.kind == "transient"


STATUSES: list[tuple[str, int, TaskState]] = [
    ("status_in_queue", 202, "queued"),
    ("status_in_progress", 202, "running"),
    ("status_completed", 200, "finalizing"),
    ("status_completed_error", 200, "finalizing"),  # the result GET says what failed
]


@pytest.mark.parametrize(("name", "http", "state"), STATUSES)
def test_parse_poll(fal: FalAdapter, reply: Reply, name: str, http: int, state: TaskState) -> None:
    """202 while queued or running, 200 once COMPLETED (inference API page)."""
    status = fal.parse_poll(reply("fal", name, http))
    assert (status.state, status.warning, status.video_url) == (state, None, None)
    assert status.raw_status == orjson.loads(reply("fal", name).body)["status"]


def test_completed_carries_the_request_id_to_the_result_get(fal: FalAdapter, reply: Reply) -> None:
    status = fal.parse_poll(reply("fal", "status_completed"))
    assert status.file_id == REQUEST_ID
    req = fal.retrieve_request(status)
    assert req is not None
    assert (req.method, req.url) == ("GET", f"{QUEUE}/{APP}/requests/{REQUEST_ID}")


def test_no_result_get_before_completed(fal: FalAdapter, reply: Reply) -> None:
    assert fal.retrieve_request(fal.parse_poll(reply("fal", "status_in_progress"))) is None


@pytest.mark.parametrize(
    "body",
    [
        {"status": "FAILED"},  # only in unofficial schemas
        {"status": "COMPLETED", "logs": None},  # no response_url to take the id from
        {"status": "COMPLETED", "response_url": "https://queue.fal.run/fal-ai/minimax"},
    ],
)
def test_what_cannot_be_read_keeps_polling_with_a_warning(
    fal: FalAdapter, body: dict[str, object]
) -> None:
    status = fal.parse_poll(_answer(200, body))
    assert (status.state, status.file_id) == ("running", None)
    assert status.warning is not None


def test_statuses_compare_without_case(fal: FalAdapter) -> None:
    assert fal.parse_poll(_answer(202, {"status": "in_progress", "logs": None})).state == "running"


# -- the result GET decides ----------------------------------------------------------------


def test_result_with_a_video_succeeds(fal: FalAdapter, reply: Reply) -> None:
    status = fal.parse_retrieve(reply("fal", "result_ok"))
    assert status.state == "succeeded"
    assert status.video_url == "https://v3.fal.media/files/zebra/4tW9Ck3q1-Yd_kZl0n2pX/output.mp4"
    assert status.url_ttl == 7 * 86400.0  # "at least 7 days"


def test_result_without_a_video_fails(fal: FalAdapter) -> None:
    status = fal.parse_retrieve(_answer(200, {"images": []}))
    assert (status.state, status.failure) == ("failed", "provider_error")


FAILED_RESULTS: list[tuple[str, FailureKind]] = [
    ("error_422_image_too_large", "invalid_input"),
    ("error_422_content_policy", "content_policy"),
    ("error_504_request_timeout", "provider_error"),
    ("error_500_runner_server_error", "provider_error"),
    ("error_499_client_cancelled", "provider_error"),
]


@pytest.mark.parametrize(("name", "failure"), FAILED_RESULTS)
def test_a_result_error_about_the_request_fails_the_task(
    fal: FalAdapter, reply: Reply, name: str, failure: FailureKind
) -> None:
    status = fal.parse_retrieve(reply("fal", name))
    assert (status.state, status.raw_status, status.failure) == ("failed", "COMPLETED", failure)
    assert status.message.startswith(f"HTTP {name.split('_')[1]}: ")


def test_a_model_error_names_field_message_and_type(fal: FalAdapter, reply: Reply) -> None:
    status = fal.parse_retrieve(reply("fal", "error_422_image_too_large"))
    assert status.message == (
        "HTTP 422: image_url: Image dimensions are too large. Maximum dimensions are "
        "1024x1024 pixels. [image_too_large]"
    )


# The request error types fal documents with their typical statuses (request-errors page).
REQUEST_ERROR_TYPES = [
    ("request_timeout", 504),
    ("startup_timeout", 504),
    ("runner_scheduling_failure", 503),
    ("runner_connection_timeout", 503),
    ("runner_disconnected", 503),
    ("runner_connection_refused", 503),
    ("runner_connection_error", 503),
    ("runner_incomplete_response", 502),
    ("runner_server_error", 500),
    ("client_disconnected", 499),
    ("client_cancelled", 499),
    ("bad_request", 400),
]


@pytest.mark.parametrize(("error_type", "http"), REQUEST_ERROR_TYPES)
def test_every_request_error_type_ends_the_request(
    fal: FalAdapter, error_type: str, http: int
) -> None:
    """In the body or only in `X-Fal-Error-Type`: the request failed, after fal's retries."""
    in_body = _answer(http, {"detail": "failed", "error_type": error_type})
    in_header = _answer(http, {"detail": "failed"}, {"x-fal-error-type": error_type})
    for answer in (in_body, in_header):
        status = fal.parse_retrieve(answer)
        assert (status.state, status.failure) == ("failed", "provider_error")
        assert error_type in status.message


RESULT_GET_ERRORS: list[tuple[HttpResponse, ErrorKind]] = [
    (_answer(500, {"detail": "boom", "error_type": "internal_error"}), "transient"),
    (HttpResponse(502, b"<html><center>nginx</center></html>"), "transient"),
    (_answer(401, {"detail": "No user found for Key ID and Secret"}), "auth"),
    (_answer(429, {"detail": "Too many requests"}, {"retry-after": "3"}), "rate_limited"),
    (_answer(404, {"detail": "Request not found"}), "provider_error"),
    # Asked too early (a third-party client handles this text; UNVERIFIED): asked again.
    (_answer(400, {"detail": "Request is still in progress"}), "invalid_input"),
]


@pytest.mark.parametrize(("answer", "kind"), RESULT_GET_ERRORS)
def test_a_result_error_about_the_get_raises(
    fal: FalAdapter, answer: HttpResponse, kind: ErrorKind
) -> None:
    """The engine retries a raising result GET (and stops on `auth`); the task stands."""
    with pytest.raises(ProviderError) as caught:
        fal.parse_retrieve(answer)
    assert caught.value.kind == kind


# -- errors on submits and polls -----------------------------------------------------------

ERRORS: list[tuple[str, ErrorKind]] = [
    ("error_401_no_user", "auth"),
    ("error_401_key_format", "auth"),
    ("error_403_exhausted_balance", "quota"),
    ("error_403_top_up", "quota"),
    ("error_403_admin_lock", "auth"),
    ("error_422_image_too_large", "invalid_input"),
    ("error_422_content_policy", "content_policy"),
    ("error_500_internal_error", "transient"),
    ("error_504_request_timeout", "transient"),
]


@pytest.mark.parametrize(("name", "kind"), ERRORS)
def test_errors_are_classified(fal: FalAdapter, reply: Reply, name: str, kind: ErrorKind) -> None:
    for parse in (fal.parse_submit, fal.parse_poll):
        with pytest.raises(ProviderError) as caught:
            parse(reply("fal", name))
        assert caught.value.kind == kind


def test_classify_reads_retry_after_and_the_error_type_header(fal: FalAdapter) -> None:
    error = fal.classify(
        HttpResponse(429, b"{}", {"retry-after": "12", "x-fal-error-type": "rate_limited"})
    )
    assert (error.kind, error.retry_after) == ("rate_limited", 12.0)
    assert error.message == "HTTP 429: {} (rate_limited)"


def test_a_gateway_page_is_transient(fal: FalAdapter) -> None:
    page = b"<html><head><title>503 Service Temporarily Unavailable</title></head></html>"
    assert fal.classify(HttpResponse(503, page)).kind == "transient"


def test_key_never_leaks(fal: FalAdapter, api_key: str) -> None:
    assert api_key not in repr(fal.retrieve_request(TaskStatus("finalizing", "", file_id="1")))
    echo = _answer(401, {"detail": f"No user found for Key ID and Secret {api_key}"})
    assert api_key not in str(fal.classify(echo))
    assert api_key not in fal.parse_retrieve(_answer(422, {"detail": api_key})).message


def test_there_is_no_task_list_to_reconcile_by(fal: FalAdapter) -> None:
    """The by-endpoint list may not show requests in flight (UNVERIFIED): a lost submit
    reply counts as a possible duplicate."""
    assert not isinstance(fal, TaskFinder)


def test_every_fixture_is_exercised(recorded: Callable[[str], set[str]]) -> None:
    used = {row[0] for row in STATUSES} | {row[0] for row in FAILED_RESULTS}
    used |= {row[0] for row in ERRORS} | {"submit_ok", "result_ok"}
    assert recorded("fal") == used
