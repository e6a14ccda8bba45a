"""MiniMax's V2 wire (H3): content items with roles, `task` answers, OpenAI-style errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import orjson
import pytest

from hailuo_batch.core.http import HttpResponse, SubmitImages, TaskState
from hailuo_batch.core.jobs import ErrorKind, FailureKind, ImageRef, Reference, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers import TaskFinder
from hailuo_batch.providers.minimax_v2 import MinimaxV2Adapter, is_v2_task

Reply = Callable[..., HttpResponse]
V2 = "minimax/v2"  # the fixtures' folder
PROMPT = "A boy playing basketball by the sea"
FIRST, LAST = "https://cdn.example/first.png", "data:image/png;base64,iVBORw0KGgo="


@pytest.fixture
def v2(api_key: str) -> MinimaxV2Adapter:
    return MinimaxV2Adapter("minimax", api_key)


def h3(**fields: object) -> VideoRequest:
    return replace(VideoRequest("h3", PROMPT, 5, "2K"), **fields)  # type: ignore[arg-type]


def text_item(prompt: str = PROMPT) -> dict[str, object]:
    return {"type": "text", "text": prompt}


def test_text_to_video_body(v2: MinimaxV2Adapter, api_key: str) -> None:
    """The docs' own example: one text item; no prompt optimizer, no audio switch."""
    req = v2.submit_request(h3(ratio="21:9"), SubmitImages())
    assert (req.method, req.url) == ("POST", "https://api.minimax.io/v2/video_generation")
    assert req.headers["Authorization"] == f"Bearer {api_key}"
    assert req.json == {
        "model": "MiniMax-H3",
        "content": [text_item()],
        "resolution": "2K",
        "duration": 5,
        "ratio": "21:9",
    }


@pytest.mark.parametrize("ratio", [None, "adaptive"])
def test_text_only_needs_a_concrete_ratio(v2: MinimaxV2Adapter, ratio: str | None) -> None:
    """MiniMax refuses `adaptive` without a frame: nothing to adapt to, so 16:9."""
    req = v2.submit_request(h3(ratio=ratio), SubmitImages())
    assert req.json is not None and req.json["ratio"] == "16:9"


def test_first_and_last_frame_items(v2: MinimaxV2Adapter) -> None:
    """Frames are image_url items with roles; the ratio MiniMax ignores then is adaptive."""
    req = v2.submit_request(h3(resolution="768P", duration=8), SubmitImages(FIRST, LAST))
    assert req.json == {
        "model": "MiniMax-H3",
        "content": [
            text_item(),
            {"type": "image_url", "image_url": {"url": FIRST}, "role": "first_frame"},
            {"type": "image_url", "image_url": {"url": LAST}, "role": "last_frame"},
        ],
        "resolution": "768P",
        "duration": 8,
        "ratio": "adaptive",
    }


def test_a_last_frame_alone_is_sent(v2: MinimaxV2Adapter) -> None:
    """Docs conflict on last-frame-only (UNVERIFIED): sent as asked, MiniMax decides."""
    req = v2.submit_request(h3(ratio="9:16"), SubmitImages(last=LAST))
    assert req.json is not None
    assert req.json["content"] == [
        text_item(),
        {"type": "image_url", "image_url": {"url": LAST}, "role": "last_frame"},
    ]
    assert req.json["ratio"] == "9:16"


def test_references_keep_their_order_and_roles(v2: MinimaxV2Adapter) -> None:
    video, audio = "https://cdn.example/move.mp4", "https://cdn.example/voice.mp3"
    images = SubmitImages(references=(("image", FIRST), ("video", video), ("audio", audio)))
    req = v2.submit_request(h3(), images)
    assert req.json is not None
    assert req.json["content"] == [
        text_item(),
        {"type": "image_url", "image_url": {"url": FIRST}, "role": "reference_image"},
        {"type": "video_url", "video_url": {"url": video}, "role": "reference_video"},
        {"type": "audio_url", "audio_url": {"url": audio}, "role": "reference_audio"},
    ]
    assert req.json["ratio"] == "adaptive"


@pytest.mark.parametrize(
    ("request_", "images", "needle"),
    [
        (h3(), SubmitImages(subject=FIRST), "subject reference"),
        (h3(prompt=" "), SubmitImages(FIRST), "empty prompt"),  # a text item is required
    ],
)
def test_what_v2_cannot_take_is_refused_before_sending(
    v2: MinimaxV2Adapter, request_: VideoRequest, images: SubmitImages, needle: str
) -> None:
    with pytest.raises(ProviderError) as caught:
        v2.submit_request(request_, images)
    assert caught.value.kind == "invalid_input"
    assert needle in caught.value.message


def test_novita_root_and_an_unsold_host(api_key: str) -> None:
    """Novita passes V2 through under /v3/minimax; HighwayAPI sells no H3."""
    novita = MinimaxV2Adapter("novita", api_key, root="/v3/minimax")
    assert novita.submit_request(h3(), SubmitImages()).url == (
        "https://api.novita.ai/v3/minimax/v2/video_generation"
    )
    assert novita.poll_request("v2:42").url == (
        "https://api.novita.ai/v3/minimax/v2/query/video_generation/42"
    )
    highway = MinimaxV2Adapter("highway", api_key, root="/v3/minimax")
    with pytest.raises(ProviderError) as caught:
        highway.submit_request(h3(), SubmitImages())
    assert caught.value.kind == "invalid_input"
    assert "does not sell h3" in caught.value.message


def test_task_ids_are_marked_as_v2s(v2: MinimaxV2Adapter, reply: Reply) -> None:
    """v1 and V2 ids are both digits: the mark tells the host which API to poll."""
    task_id = v2.parse_submit(reply(V2, "submit_ok"))
    assert task_id == "v2:424010985738629"
    assert is_v2_task(task_id) and not is_v2_task("424010985738629")
    assert v2.poll_request(task_id).url == (
        "https://api.minimax.io/v2/query/video_generation/424010985738629"
    )


def test_the_id_is_also_read_from_task_id(v2: MinimaxV2Adapter) -> None:
    """`task.id` (the README's matrix names both): read leniently."""
    answer = HttpResponse(200, b'{"task": {"id": "424010985738630"}}')
    assert v2.parse_submit(answer) == "v2:424010985738630"


@pytest.mark.parametrize("body", [b"{}", b'{"task_id": ""}', b'{"task_id": null}'])
def test_a_submit_answer_without_an_id_is_transient(v2: MinimaxV2Adapter, body: bytes) -> None:
    with pytest.raises(ProviderError) as caught:
        v2.parse_submit(HttpResponse(200, body))
    assert caught.value.kind == "transient"


POLLS: list[tuple[str, TaskState, FailureKind | None]] = [
    ("poll_queued", "queued", None),
    ("poll_running", "running", None),
    ("poll_succeeded", "succeeded", None),
    ("poll_succeeded_no_usage", "succeeded", None),
    ("poll_failed_1026", "failed", "content_policy"),
    ("poll_failed_1027", "failed", "content_policy"),
    ("poll_failed_1000", "failed", "provider_error"),
    ("poll_cancelled", "failed", "provider_error"),
    ("poll_expired", "failed", "expired"),  # UNVERIFIED status (MiniMax-AI/cli only)
]


@pytest.mark.parametrize(("name", "state", "failure"), POLLS)
def test_parse_poll(
    v2: MinimaxV2Adapter, reply: Reply, name: str, state: TaskState, failure: FailureKind | None
) -> None:
    answer = reply(V2, name)
    status = v2.parse_poll(answer)
    assert (status.state, status.failure, status.warning) == (state, failure, None)
    assert status.raw_status == orjson.loads(answer.body)["task"]["status"]
    assert (status.video_url is not None) == (state == "succeeded")


def test_success_carries_the_content_url(v2: MinimaxV2Adapter, reply: Reply) -> None:
    """No lifetime is stated: a refused download is followed by a fresh poll."""
    status = v2.parse_poll(reply(V2, "poll_succeeded"))
    assert status.video_url == (
        "https://video-product.cdn.minimax.io/inference_output/rollout/2026-07-27/"
        "9b2f4c1e-7d3a-4e8b-a5c6-0f1e2d3c4b5a/output.mp4"
    )
    assert (status.url_ttl, status.url_expires_at, status.charged_usd) == (None, None, None)


def test_a_failure_names_its_code(v2: MinimaxV2Adapter, reply: Reply) -> None:
    status = v2.parse_poll(reply(V2, "poll_failed_1026"))
    assert status.message == "video description contains sensitive content (code 1026)"


@pytest.mark.parametrize(
    ("task", "state"),
    [
        ({"status": "succeeded", "content": {}}, "running"),  # no URL yet: never a success
        ({"status": "archived"}, "running"),
        ({}, "running"),
    ],
)
def test_unreadable_answers_keep_polling_with_a_warning(
    v2: MinimaxV2Adapter, task: dict[str, object], state: TaskState
) -> None:
    status = v2.parse_poll(HttpResponse(200, orjson.dumps({"task": task})))
    assert status.state == state
    assert status.warning is not None


ERRORS: list[tuple[str, ErrorKind]] = [
    ("error_400_bad_request", "invalid_input"),
    ("error_400_invalid_task_id", "invalid_input"),  # body UNVERIFIED: assumed like this
    ("error_401_authorized", "auth"),
    ("error_402_insufficient_balance", "quota"),
    ("error_422_unprocessable", "content_policy"),
    ("error_429_rate_limit", "rate_limited"),
    ("error_500_server", "transient"),
    ("error_529_overloaded", "transient"),
]


@pytest.mark.parametrize(("name", "kind"), ERRORS)
def test_errors_are_classified_from_status_type_and_code(
    v2: MinimaxV2Adapter, reply: Reply, name: str, kind: ErrorKind
) -> None:
    """Each documented V2 error, on submit and on poll alike."""
    answer = reply(V2, name, headers={"retry-after": "7"})
    for parse in (v2.parse_submit, v2.parse_poll):
        with pytest.raises(ProviderError) as caught:
            parse(answer)
        error = caught.value
        assert (error.kind, error.status) == (kind, answer.status)
        assert error.retry_after == 7.0
        assert "request_id 021785229015510a2c883cf675b98" in error.message
    assert v2.classify(answer).kind == kind


def test_the_code_in_the_message_wins_over_the_type(v2: MinimaxV2Adapter) -> None:
    """A 400 whose message ends in 1008 is about the balance, not the request."""
    body = {"type": "error", "error": {"type": "bad_request_error", "message": "no (1008)"}}
    assert v2.classify(HttpResponse(400, orjson.dumps(body))).kind == "quota"


def test_another_envelope_goes_to_the_fallback(api_key: str) -> None:
    """At Novita the error envelope is UNVERIFIED: the host reads what is not V2's."""
    seen: list[HttpResponse] = []

    def fallback(response: HttpResponse) -> ProviderError:
        seen.append(response)
        return ProviderError("quota", "novita", "from the host")

    novita = MinimaxV2Adapter("novita", api_key, root="/v3/minimax", fallback=fallback)
    envelope = HttpResponse(403, b'{"code": 403, "reason": "NOT_ENOUGH_BALANCE"}')
    assert novita.classify(envelope).kind == "quota"
    assert seen == [envelope]


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [(502, b"<html>Bad Gateway</html>", "transient"), (403, b"Forbidden", "auth")],
)
def test_without_a_fallback_the_http_status_decides(
    v2: MinimaxV2Adapter, status: int, body: bytes, kind: ErrorKind
) -> None:
    assert v2.classify(HttpResponse(status, body)).kind == kind


def test_malformed_json_is_transient(v2: MinimaxV2Adapter) -> None:
    with pytest.raises(ProviderError) as caught:
        v2.parse_poll(HttpResponse(200, b'{"task": '))
    assert caught.value.kind == "transient"


def test_answered_knows_its_own_paths(api_key: str) -> None:
    v2 = MinimaxV2Adapter("minimax", api_key, "http://127.0.0.1:9/minimax")
    assert v2.answered(HttpResponse(200, b"", url=v2.poll_request("v2:1").url))
    assert not v2.answered(HttpResponse(200, b"", url="http://127.0.0.1:9/minimax/v1/x"))
    assert not v2.answered(HttpResponse(200, b""))


def test_the_v2_list_cannot_find_a_lost_submit(v2: MinimaxV2Adapter) -> None:
    """Its entries carry no input (docs/providers/minimax.md section 10): no finder."""
    assert not isinstance(v2, TaskFinder)


def test_key_never_leaks(v2: MinimaxV2Adapter, api_key: str) -> None:
    request = h3(references=(Reference("image", ImageRef(FIRST, "url")),))
    assert api_key not in repr(v2.submit_request(request, SubmitImages()))
    echo = {"type": "error", "error": {"type": "authorized_error", "message": f"bad {api_key}"}}
    assert api_key not in str(v2.classify(HttpResponse(401, orjson.dumps(echo))))
    failed = {"task": {"status": "failed", "error": {"code": "1004", "message": api_key}}}
    assert api_key not in v2.parse_poll(HttpResponse(200, orjson.dumps(failed))).message


def test_every_fixture_is_exercised(recorded: Callable[[str], set[str]]) -> None:
    used = {row[0] for row in POLLS} | {row[0] for row in ERRORS} | {"submit_ok"}
    assert recorded(V2) == used
