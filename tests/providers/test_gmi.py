"""GMI Cloud adapter: queue requests, detail readings, error bodies, request-list matching."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from hailuo_batch.core.http import Absent, Found, HttpResponse, SubmitImages, TaskState, Unsure
from hailuo_batch.core.jobs import ErrorKind, FailureKind, Model, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers.gmi import GmiAdapter, PriceInfo

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


@pytest.mark.parametrize(
    ("model", "wire", "first"),
    [
        ("hailuo-2.3", "Minimax-Hailuo-2.3", None),
        ("hailuo-2.3", "Minimax-Hailuo-2.3", "https://x.test/a.jpg"),
        ("hailuo-2.3-fast", "Minimax-Hailuo-2.3-Fast", "https://x.test/a.jpg"),
    ],
)
def test_hailuo_23_request(gmi: GmiAdapter, model: Model, wire: str, first: str | None) -> None:
    """GMI's 2.3 quickstarts: the model id (lower-case `max`) and 02's payload fields."""
    request = VideoRequest(model, "koi at dawn [Pan left]", 10, "768P", fast_pretreatment=True)
    req = gmi.submit_request(request, SubmitImages(first=first))
    assert req.json == {
        "model": wire,
        "payload": {
            "prompt": "koi at dawn [Pan left]",
            **({"first_frame_image": first} if first else {}),
            "duration": 10,
            "resolution": "768P",
            "prompt_optimizer": True,
            "fast_pretreatment": True,
        },
    }


def test_h3_frames_request(gmi: GmiAdapter) -> None:
    """H3's flat payload (`MiniMax-H3`, capital M): frames, length, size, ratio; no options."""
    request = VideoRequest("h3", "x" * 7000, 4, "2K", ratio="21:9")
    frames = SubmitImages(first="https://x.test/a.jpg", last="https://x.test/b.jpg")
    req = gmi.submit_request(request, frames)
    assert req.json == {
        "model": "MiniMax-H3",
        "payload": {
            "prompt": "x" * 7000,
            "first_frame_image": "https://x.test/a.jpg",
            "last_frame_image": "https://x.test/b.jpg",
            "duration": 4,
            "resolution": "2K",
            "ratio": "21:9",
        },
    }


def test_h3_references_request(gmi: GmiAdapter) -> None:
    """References go to `reference_images/videos/audios` in order; `ratio` unset is left out."""
    media = SubmitImages(
        references=(
            ("video", "https://x.test/v1.mp4"),
            ("image", "https://x.test/a.jpg"),
            ("video", "https://x.test/v2.mp4"),
            ("audio", "https://x.test/voice.wav"),
        )
    )
    req = gmi.submit_request(VideoRequest("h3", "they talk", 15, "768P"), media)
    assert req.json == {
        "model": "MiniMax-H3",
        "payload": {
            "prompt": "they talk",
            "reference_images": ["https://x.test/a.jpg"],
            "reference_videos": ["https://x.test/v1.mp4", "https://x.test/v2.mp4"],
            "reference_audios": ["https://x.test/voice.wav"],
            "duration": 15,
            "resolution": "768P",
        },
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
    ("detail_success_h3", "succeeded", None),
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


@pytest.mark.parametrize(
    ("model", "listed"), [("hailuo-02", "Minimax-Hailuo-02"), ("h3", "MiniMax-H3")]
)
def test_list_request_is_for_the_submits_model(gmi: GmiAdapter, model: Model, listed: str) -> None:
    """GMI lists requests per model: the one the lost submit named."""
    request = VideoRequest(model, "p", 6, "768P")
    body = gmi.submit_request(request, SubmitImages()).json
    assert body is not None
    req = gmi.list_request(body)
    assert (req.method, req.url) == ("GET", f"{QUEUE}?model_id={listed}")


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


def test_model_request(gmi: GmiAdapter) -> None:
    req = gmi.model_request("hailuo-2.3-fast")
    assert (req.method, req.url) == (
        "GET",
        "https://console.gmicloud.ai/api/v1/ie/requestqueue/apikey/models/Minimax-Hailuo-2.3-Fast",
    )


def test_price_is_read_raw(gmi: GmiAdapter, reply: Reply) -> None:
    """`price_info` as the SDK types it, never turned into dollars: its units are unknown."""
    price = gmi.parse_price(reply("gmi", "model_detail"))
    assert price == PriceInfo(price=28.0, pricing_type="per_request", unit="video")


def test_a_model_without_a_price_has_none(gmi: GmiAdapter, reply: Reply) -> None:
    assert gmi.parse_price(reply("gmi", "model_detail_no_price")) is None


def test_price_is_read_leniently(gmi: GmiAdapter) -> None:
    """A price sent as a string still reads; missing fields read as unknown, not zero."""
    body = b'{"model": "m", "price_info": {"price": "0.28", "unit": 5}}'
    assert gmi.parse_price(HttpResponse(200, body)) == PriceInfo(0.28, "", "")
    assert gmi.parse_price(HttpResponse(200, b'{"price_info": {}}')) == PriceInfo(None, "", "")


def test_an_unknown_model_detail_is_classified(gmi: GmiAdapter, reply: Reply) -> None:
    with pytest.raises(ProviderError) as caught:
        gmi.parse_price(reply("gmi", "error_404_not_found"))
    assert caught.value.kind == "provider_error"


def test_key_never_leaks(gmi: GmiAdapter, api_key: str, text_request: VideoRequest) -> None:
    built = gmi.submit_request(text_request, SubmitImages())
    assert api_key not in repr(built)
    assert built.json is not None
    assert api_key not in repr(gmi.list_request(built.json))
    error = gmi.classify(HttpResponse(401, f"invalid token {api_key}".encode()))
    assert api_key not in str(error)


def test_every_fixture_is_exercised(recorded: Callable[[str], set[str]]) -> None:
    used = {"submit_ok", "list_requests", "model_detail", "model_detail_no_price"}
    used |= {row[0] for row in POLLS + ERRORS}
    assert recorded("gmi") == used
