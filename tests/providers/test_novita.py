"""Novita / HighwayAPI adapter: request building, poll readings, error classification."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from hailuo_batch.core.http import HttpResponse, SubmitImages, TaskState
from hailuo_batch.core.jobs import ErrorKind, FailureKind, Model, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers.novita import NovitaAdapter

Reply = Callable[..., HttpResponse]
FIRST = "https://x.test/a.png"


@pytest.fixture
def novita(api_key: str) -> NovitaAdapter:
    return NovitaAdapter("novita", api_key)


def _poll(task: dict[str, object], videos: list[object] | None = None) -> HttpResponse:
    body = {"task": task, "videos": videos or [], "images": [], "audios": []}
    return HttpResponse(200, orjson.dumps(body))


@pytest.mark.parametrize(
    ("name", "origin"),
    [("novita", "https://api.novita.ai"), ("highway", "https://api.highwayapi.ai")],
)
def test_text_to_video_request(
    name: str, origin: str, api_key: str, text_request: VideoRequest
) -> None:
    """Hailuo-02 text-to-video maps every neutral field to Novita's names, nothing else."""
    req = NovitaAdapter(name, api_key).submit_request(text_request, SubmitImages())
    assert req.method == "POST"
    assert req.url == f"{origin}/v3/async/minimax-hailuo-02"
    assert req.headers["Authorization"] == f"Bearer {api_key}"
    assert req.headers["Content-Type"] == "application/json"
    assert req.json == {
        "prompt": "A cat walks through a neon alley [Push in]",
        "duration": 10,
        "resolution": "768P",
        "enable_prompt_expansion": False,
        "fast_pretreatment": True,
    }


def test_first_and_last_frame_request(
    novita: NovitaAdapter, frames_request: VideoRequest, frames: SubmitImages
) -> None:
    req = novita.submit_request(frames_request, frames)
    assert req.json == {
        "prompt": "The car drives off [Pan right]",
        "image": frames.first,
        "end_image": frames.last,
        "duration": 6,
        "resolution": "1080P",
        "enable_prompt_expansion": True,
        "fast_pretreatment": False,
    }


def test_video01_request_takes_only_its_fields(
    novita: NovitaAdapter, video01_request: VideoRequest
) -> None:
    req = novita.submit_request(video01_request, SubmitImages(first="https://x.test/a.png"))
    assert req.url == "https://api.novita.ai/v3/async/minimax-video-01"
    assert req.json == {
        "prompt": "a red fox in snow",
        "image_url": "https://x.test/a.png",
        "enable_prompt_expansion": True,
    }


HAILUO_23: list[tuple[Model, str | None, str, dict[str, object]]] = [
    # 2.3-t2v: `fast_pretreatment` documented by HighwayAPI only, sent only when on.
    ("hailuo-2.3", None, "minimax-hailuo-2.3-t2v", {}),
    ("hailuo-2.3", FIRST, "minimax-hailuo-2.3-i2v", {"fast_pretreatment": False}),
    ("hailuo-2.3-fast", FIRST, "minimax-hailuo-2.3-fast-i2v", {}),
]


@pytest.mark.parametrize("name", ["novita", "highway"])
@pytest.mark.parametrize(("model", "first", "path", "pretreatment"), HAILUO_23)
def test_hailuo_23_paths(
    name: str,
    api_key: str,
    model: Model,
    first: str | None,
    path: str,
    pretreatment: dict[str, object],
) -> None:
    """2.3 goes to its text or image path by the first frame; Fast has only an image path."""
    request = VideoRequest(model, "koi at dawn", 10, "768P", prompt_optimizer=False)
    req = NovitaAdapter(name, api_key).submit_request(request, SubmitImages(first=first))
    assert req.url.endswith(f"/v3/async/{path}")
    assert req.json == {
        "prompt": "koi at dawn",
        **({"image": first} if first else {}),
        "duration": 10,
        "resolution": "768P",
        "enable_prompt_expansion": False,
        **pretreatment,
    }


def test_hailuo_23_text_sends_fast_pretreatment_when_on(novita: NovitaAdapter) -> None:
    request = VideoRequest("hailuo-2.3", "p", 6, "1080P", fast_pretreatment=True)
    req = novita.submit_request(request, SubmitImages())
    assert req.json is not None and req.json["fast_pretreatment"] is True


def test_hailuo_23_fast_refuses_fast_pretreatment(novita: NovitaAdapter) -> None:
    """Its path has no such field: sending without it would change the video."""
    request = VideoRequest("hailuo-2.3-fast", "p", 6, "768P", fast_pretreatment=True)
    with pytest.raises(ProviderError, match="fast_pretreatment") as caught:
        novita.submit_request(request, SubmitImages(first=FIRST))
    assert caught.value.kind == "invalid_input"


@pytest.mark.parametrize("name", ["novita", "highway"])
@pytest.mark.parametrize(("model", "first"), [("t2v-01", None), ("i2v-01", FIRST)])
def test_01_family_shares_the_video01_path(
    name: str, api_key: str, model: Model, first: str | None
) -> None:
    """T2V-01 is Video-01 without a first frame, I2V-01 with one (`image_url`)."""
    request = VideoRequest(model, "a lighthouse", 6, "720P", prompt_optimizer=False)
    req = NovitaAdapter(name, api_key).submit_request(request, SubmitImages(first=first))
    assert req.url.endswith("/v3/async/minimax-video-01")
    assert req.json == {
        "prompt": "a lighthouse",
        **({"image_url": first} if first else {}),
        "enable_prompt_expansion": False,
    }


def test_base_url_replaces_the_origin(api_key: str, text_request: VideoRequest) -> None:
    adapter = NovitaAdapter("highway", api_key, base_url="http://127.0.0.1:8765/highway/")
    req = adapter.submit_request(text_request, SubmitImages())
    assert req.url == "http://127.0.0.1:8765/highway/v3/async/minimax-hailuo-02"
    assert adapter.poll_request("t-1").url == (
        "http://127.0.0.1:8765/highway/v3/async/task-result?task_id=t-1"
    )


def test_highway_refuses_h3(api_key: str) -> None:
    """HighwayAPI sells no H3 (not in its API spec): nothing is built for its path."""
    h3 = VideoRequest("h3", "a storm at sea", 6, "768P")
    with pytest.raises(ProviderError) as caught:
        NovitaAdapter("highway", api_key).submit_request(h3, SubmitImages())
    assert caught.value.kind == "invalid_input"


def test_video01_refuses_an_end_frame(
    novita: NovitaAdapter, video01_request: VideoRequest, frames: SubmitImages
) -> None:
    with pytest.raises(ProviderError) as caught:
        novita.submit_request(video01_request, frames)
    assert caught.value.kind == "invalid_input"


def test_adapter_refuses_another_protocols_name(api_key: str) -> None:
    with pytest.raises(ValueError, match="'gmi'"):
        NovitaAdapter("gmi", api_key)


def test_parse_submit(novita: NovitaAdapter, reply: Reply) -> None:
    assert novita.parse_submit(reply("novita", "submit_ok")) == (
        "f97d3f93-bb29-47d9-9327-77e70982bd43"
    )


def test_submit_without_task_id_is_transient(novita: NovitaAdapter) -> None:
    with pytest.raises(ProviderError) as caught:
        novita.parse_submit(HttpResponse(200, b'{"task_id": ""}'))
    assert caught.value.kind == "transient"


def test_poll_request(novita: NovitaAdapter) -> None:
    req = novita.poll_request("f97d3f93-bb29")
    assert (req.method, req.url) == (
        "GET",
        "https://api.novita.ai/v3/async/task-result?task_id=f97d3f93-bb29",
    )
    assert req.json is None
    assert novita.retrieve_request(novita.parse_poll(_poll({"status": "X"}))) is None


POLLS: list[tuple[str, TaskState, float | None, float | None, FailureKind | None]] = [
    ("poll_queued", "queued", 0.0, None, None),
    ("poll_processing", "running", 0.42, 95.0, None),
    ("poll_succeed", "succeeded", 1.0, None, None),
    ("poll_succeed_ttl_zero", "succeeded", 1.0, None, None),
    ("poll_failed", "failed", None, None, "provider_error"),
    ("poll_failed_sensitive", "failed", None, None, "content_policy"),
    ("poll_canceled", "failed", None, None, "provider_error"),
    ("poll_unknown", "running", None, None, None),
]


@pytest.mark.parametrize(("name", "state", "progress", "eta", "failure"), POLLS)
def test_parse_poll(
    novita: NovitaAdapter,
    reply: Reply,
    name: str,
    state: TaskState,
    progress: float | None,
    eta: float | None,
    failure: FailureKind | None,
) -> None:
    status = novita.parse_poll(reply("novita", name))
    assert status.state == state
    assert status.progress == progress
    assert status.eta == eta
    assert status.failure == failure
    assert status.raw_status == orjson.loads(reply("novita", name).body)["task"]["status"]


def test_success_carries_url_ttl_and_signed_expiry(novita: NovitaAdapter, reply: Reply) -> None:
    status = novita.parse_poll(reply("novita", "poll_succeed"))
    assert status.video_url is not None
    assert status.video_url.startswith("https://faas-minimax-video-1312767721.cos.")
    assert status.url_ttl == 3600.0
    assert status.url_expires_at == 1750396087.0  # end of q-sign-time
    assert status.warning is None


@pytest.mark.parametrize(("ttl", "expected"), [("0", 3600.0), (None, 3600.0), (1800, 1800.0)])
def test_url_ttl_is_read_leniently(novita: NovitaAdapter, ttl: object, expected: float) -> None:
    """`video_url_ttl` may be a string, an int, "0" or absent: only a positive value counts."""
    video: dict[str, object] = {"video_url": "https://cdn.test/v.mp4", "video_type": "mp4"}
    if ttl is not None:
        video["video_url_ttl"] = ttl
    status = novita.parse_poll(_poll({"status": "TASK_STATUS_SUCCEED"}, [video]))
    assert (status.url_ttl, status.url_expires_at) == (expected, None)


def test_failure_keeps_the_reason(novita: NovitaAdapter, reply: Reply) -> None:
    status = novita.parse_poll(reply("novita", "poll_failed"))
    assert status.message == "video generation failed: upstream error"


def test_unknown_status_keeps_polling_with_a_warning(novita: NovitaAdapter, reply: Reply) -> None:
    status = novita.parse_poll(reply("novita", "poll_unknown"))
    assert status.warning is not None
    assert "TASK_STATUS_UNKNOWN" in status.warning
    assert status.video_url is None


def test_status_compare_ignores_case(novita: NovitaAdapter) -> None:
    video = {"video_url": "https://cdn.test/v.mp4", "video_url_ttl": "3600"}
    status = novita.parse_poll(_poll({"status": "task_status_Succeed"}, [video]))
    assert (status.state, status.video_url) == ("succeeded", "https://cdn.test/v.mp4")


def test_success_without_url_is_not_success(novita: NovitaAdapter) -> None:
    status = novita.parse_poll(_poll({"status": "TASK_STATUS_SUCCEED"}))
    assert status.state == "running"
    assert status.warning is not None


@pytest.mark.parametrize("body", [b"{not json", b"<html>502</html>", b"[1, 2]"])
def test_malformed_poll_answer_is_transient(novita: NovitaAdapter, body: bytes) -> None:
    with pytest.raises(ProviderError) as caught:
        novita.parse_poll(HttpResponse(200, body))
    assert caught.value.kind == "transient"


ERRORS: list[tuple[str, ErrorKind]] = [
    ("error_400_invalid_body", "invalid_input"),
    ("error_401_failed_to_auth", "auth"),
    ("error_403_invalid_api_key", "auth"),
    ("error_403_billing_auth_failed", "auth"),
    ("error_403_not_enough_balance", "quota"),
    ("error_403_billing_balance", "quota"),
    ("error_403_billing_failed", "quota"),
    ("error_404_path_not_found", "provider_error"),
    ("error_429_rate_limit", "rate_limited"),
    ("error_500_task_failed", "transient"),
    ("error_503_service_not_available", "transient"),
]


@pytest.mark.parametrize(("name", "kind"), ERRORS)
def test_classify(novita: NovitaAdapter, reply: Reply, name: str, kind: ErrorKind) -> None:
    response = reply("novita", name)
    error = novita.classify(response)
    assert (error.kind, error.provider, error.status) == (kind, "novita", response.status)
    assert orjson.loads(response.body)["reason"] in error.message
    with pytest.raises(ProviderError) as caught:
        novita.parse_submit(response)
    assert caught.value.kind == kind


def test_classify_quotes_the_trace_id(novita: NovitaAdapter, reply: Reply) -> None:
    error = novita.classify(reply("novita", "error_400_invalid_body"))
    assert "1080P only supports duration 6" in error.message
    assert "trace_id 6a1f0c2e9b7d4e31" in error.message


def test_rate_limit_carries_retry_after(novita: NovitaAdapter, reply: Reply) -> None:
    response = reply("novita", "error_429_rate_limit", headers={"retry-after": "7"})
    error = novita.classify(response)
    assert (error.kind, error.retry_after, error.retryable) == ("rate_limited", 7.0, True)
    assert novita.classify(reply("novita", "error_429_rate_limit")).retry_after is None


def test_text_error_body_reads_as_its_status(novita: NovitaAdapter) -> None:
    error = novita.classify(HttpResponse(502, b"<html><body>Bad gateway</body></html>"))
    assert error.kind == "transient"
    assert "Bad gateway" in error.message


def test_key_never_leaks(novita: NovitaAdapter, api_key: str, text_request: VideoRequest) -> None:
    """Neither a request's repr nor an error message carries the key, even when echoed."""
    req = novita.submit_request(text_request, SubmitImages())
    assert api_key not in repr(req)
    assert api_key not in repr(novita)
    echo = orjson.dumps({"reason": "FAILED_TO_AUTH", "message": f"bad key Bearer {api_key}"})
    error = novita.classify(HttpResponse(401, echo))
    assert api_key not in str(error)
    assert "[redacted]" in error.message


def test_every_fixture_is_exercised(recorded: Callable[[str], set[str]]) -> None:
    used = {"submit_ok"} | {row[0] for row in POLLS} | {row[0] for row in ERRORS}
    assert recorded("novita") == used
