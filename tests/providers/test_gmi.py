"""GMI Cloud adapter: queue requests, detail readings, error bodies, request-list matching."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from hailuo_batch.core.http import Absent, Found, HttpResponse, SubmitImages, TaskState, Unsure
from hailuo_batch.core.jobs import ErrorKind, FailureKind, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers.gmi import GmiAdapter

Reply = Callable[..., HttpResponse]
QUEUE = "https://console.gmicloud.ai/api/v1/ie/requestqueue/apikey/requests"


@pytest.fixture
def gmi(api_key: str) -> GmiAdapter:
    return GmiAdapter("gmi", api_key)


def _detail(status: str, **fields: object) -> HttpResponse:
    return HttpResponse(200, orjson.dumps({"request_id": "r-1", "status": status, **fields}))


def test_text_to_video_request(gmi: GmiAdapter, api_key: str, text_request: VideoRequest) -> None:
    req = gmi.submit_request(text_request, SubmitImages())
    assert (req.method, req.url) == ("POST", QUEUE)
    assert req.headers["Authorization"] == f"Bearer {api_key}"
    assert req.json == {
        "model": "Minimax-Hailuo-02",
        "payload": {
            "prompt": "A cat walks through a neon alley [Push in]",
            "duration": 10,
            "resolution": "768P",
            "prompt_optimizer": False,
            "fast_pretreatment": True,
        },
    }


def test_image_to_video_request(gmi: GmiAdapter, frames_request: VideoRequest) -> None:
    req = gmi.submit_request(frames_request, SubmitImages(first="https://x.test/a.jpg"))
    assert req.json is not None
    assert req.json["payload"] == {
        "prompt": "The car drives off [Pan right]",
        "first_frame_image": "https://x.test/a.jpg",
        "duration": 6,
        "resolution": "1080P",
        "prompt_optimizer": True,
        "fast_pretreatment": False,
    }


def test_last_frame_is_refused_not_dropped(
    gmi: GmiAdapter, frames_request: VideoRequest, frames: SubmitImages
) -> None:
    """GMI's payload has no last-frame field: sending without it would change the video."""
    with pytest.raises(ProviderError) as caught:
        gmi.submit_request(frames_request, frames)
    assert caught.value.kind == "invalid_input"


def test_video01_is_not_sold(gmi: GmiAdapter, video01_request: VideoRequest) -> None:
    with pytest.raises(ProviderError) as caught:
        gmi.submit_request(video01_request, SubmitImages())
    assert caught.value.kind == "invalid_input"


def test_parse_submit(gmi: GmiAdapter, reply: Reply) -> None:
    assert gmi.parse_submit(reply("gmi", "submit_ok")) == "5c30b275-d669-4a25-8151-de6d60214853"


def test_poll_request_puts_the_id_in_the_path(api_key: str) -> None:
    adapter = GmiAdapter("gmi", api_key, base_url="http://127.0.0.1:8765/gmi")
    assert adapter.poll_request("5c30b275/../x").url == (
        "http://127.0.0.1:8765/gmi/api/v1/ie/requestqueue/apikey/requests/5c30b275%2F..%2Fx"
    )


POLLS: list[tuple[str, TaskState, FailureKind | None]] = [
    ("detail_created", "queued", None),
    ("detail_queued", "queued", None),
    ("detail_dispatched", "queued", None),
    ("detail_processing", "running", None),
    ("detail_success", "succeeded", None),
    ("detail_success_video_url", "succeeded", None),
    ("detail_failed", "failed", "provider_error"),
    ("detail_failed_outcome_error", "failed", "content_policy"),
    ("detail_cancelled", "failed", "provider_error"),
]


@pytest.mark.parametrize(("name", "state", "failure"), POLLS)
def test_parse_poll(
    gmi: GmiAdapter, reply: Reply, name: str, state: TaskState, failure: FailureKind | None
) -> None:
    status = gmi.parse_poll(reply("gmi", name))
    assert (status.state, status.failure, status.warning) == (state, failure, None)


def test_success_reads_media_urls_then_video_url(gmi: GmiAdapter, reply: Reply) -> None:
    first = gmi.parse_poll(reply("gmi", "detail_success"))
    fallback = gmi.parse_poll(reply("gmi", "detail_success_video_url"))
    assert first.video_url == (
        "https://storage.googleapis.com/gmi-video-outputs/5c30b275/result.mp4"
    )
    assert fallback.video_url == (
        "https://storage.googleapis.com/gmi-video-outputs/5c30b275/video.mp4"
    )
    assert (first.url_ttl, first.url_expires_at) == (None, None)  # GMI documents no lifetime


def test_failure_messages(gmi: GmiAdapter, reply: Reply) -> None:
    assert gmi.parse_poll(reply("gmi", "detail_failed")).message == "upstream generation failed"
    assert gmi.parse_poll(reply("gmi", "detail_cancelled")).message == "request ended cancelled"


def test_status_compare_ignores_case(gmi: GmiAdapter) -> None:
    outcome = {"media_urls": [{"id": "0", "url": "https://g.test/v.mp4"}]}
    assert gmi.parse_poll(_detail("SUCCESS", outcome=outcome)).video_url == "https://g.test/v.mp4"
    assert gmi.parse_poll(_detail("Dispatched")).state == "queued"


def test_unknown_status_keeps_polling(gmi: GmiAdapter) -> None:
    status = gmi.parse_poll(_detail("paused"))
    assert status.state == "running"
    assert status.warning is not None
    assert "'paused'" in status.warning


def test_success_without_url_is_not_success(gmi: GmiAdapter) -> None:
    status = gmi.parse_poll(_detail("success", outcome={"media_urls": []}))
    assert status.state == "running"
    assert status.video_url is None


def test_malformed_json_is_transient(gmi: GmiAdapter) -> None:
    with pytest.raises(ProviderError) as caught:
        gmi.parse_poll(HttpResponse(200, b"not json at all"))
    assert caught.value.kind == "transient"


ERRORS: list[tuple[str, ErrorKind]] = [
    ("error_400_invalid", "invalid_input"),
    ("error_401_unauthorized", "auth"),
    ("error_402_payment", "quota"),
    ("error_403_balance", "quota"),
    ("error_403_forbidden", "auth"),
    ("error_404_not_found", "provider_error"),
    ("error_422_unprocessable", "invalid_input"),
    ("error_429_rate_limited", "rate_limited"),
    ("error_500_internal", "transient"),
    ("error_503_unavailable", "transient"),
]


@pytest.mark.parametrize(("name", "kind"), ERRORS)
def test_classify(gmi: GmiAdapter, reply: Reply, name: str, kind: ErrorKind) -> None:
    response = reply("gmi", name)
    error = gmi.classify(response)
    assert (error.kind, error.status) == (kind, response.status)
    assert orjson.loads(response.body)["error"] in error.message
    with pytest.raises(ProviderError) as caught:
        gmi.parse_poll(response)
    assert caught.value.kind == kind


def test_text_error_bodies(gmi: GmiAdapter) -> None:
    balance = gmi.classify(HttpResponse(403, b"Insufficient credit balance"))
    unavailable = gmi.classify(HttpResponse(503, b"upstream connect error"))
    assert (balance.kind, unavailable.kind) == ("quota", "transient")
    assert "upstream connect error" in unavailable.message


def test_rate_limit_carries_retry_after(gmi: GmiAdapter, reply: Reply) -> None:
    error = gmi.classify(reply("gmi", "error_429_rate_limited", headers={"retry-after": "3.5"}))
    assert error.retry_after == 3.5


def test_list_request(gmi: GmiAdapter) -> None:
    req = gmi.list_request()
    assert (req.method, req.url) == ("GET", f"{QUEUE}?model_id=Minimax-Hailuo-02")


def test_find_task_matches_the_payload(
    gmi: GmiAdapter, reply: Reply, text_request: VideoRequest
) -> None:
    listing = reply("gmi", "list_requests")
    sent = {
        "model": "Minimax-Hailuo-02",
        "payload": {
            "prompt": "A cat walks through a neon alley [Push in]",
            "duration": 6,
            "resolution": "768P",
            "prompt_optimizer": True,
            "fast_pretreatment": False,
        },
    }
    assert gmi.find_task(listing, sent) == Found("5c30b275-d669-4a25-8151-de6d60214853")
    # A second sample of the same request must not claim the first sample's task.
    taken = {"5c30b275-d669-4a25-8151-de6d60214853"}
    assert gmi.find_task(listing, sent, exclude=taken) == Found(
        "77e1d2c3-0000-4000-8000-000000000002"
    )
    # Our 10 s request was never listed, and every entry carried its payload: absent.
    built = gmi.submit_request(text_request, SubmitImages()).json
    assert built is not None
    assert gmi.find_task(listing, built) == Absent()


def test_find_task_is_unsure_where_entries_carry_no_payload(
    gmi: GmiAdapter, text_request: VideoRequest
) -> None:
    """The SDK types `payload` as optional: a miss among entries without it proves nothing."""
    listing = HttpResponse(
        200, b'{"requests": [{"request_id": "r1", "status": "queued"}], "total": 1}'
    )
    built = gmi.submit_request(text_request, SubmitImages()).json
    assert built is not None
    assert isinstance(gmi.find_task(listing, built), Unsure)


def test_find_task_is_unsure_when_the_list_is_longer_than_the_page(
    gmi: GmiAdapter, text_request: VideoRequest
) -> None:
    listing = HttpResponse(200, b'{"requests": [], "total": 120}')
    built = gmi.submit_request(text_request, SubmitImages()).json
    assert built is not None
    assert gmi.find_task(listing, built) == Unsure("the list shows 0 of 120 requests")


def test_key_never_leaks(gmi: GmiAdapter, api_key: str, text_request: VideoRequest) -> None:
    assert api_key not in repr(gmi.submit_request(text_request, SubmitImages()))
    assert api_key not in repr(gmi.list_request())
    error = gmi.classify(HttpResponse(401, f"invalid token {api_key}".encode()))
    assert api_key not in str(error)


def test_every_fixture_is_exercised(recorded: Callable[[str], set[str]]) -> None:
    used = {"submit_ok", "list_requests"} | {row[0] for row in POLLS + ERRORS}
    assert recorded("gmi") == used
