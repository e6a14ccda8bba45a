"""MiniMax adapter: each v1 model's fields, the three-step flow, base_resp checks on HTTP 200,
and H3 handed to the V2 wire (tested itself in test_minimax_v2.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import orjson
import pytest

from hailuo_batch.core.http import HttpResponse, SubmitImages, TaskState, TaskStatus
from hailuo_batch.core.jobs import ErrorKind, FailureKind, ImageRef, Model, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers import TaskFinder
from hailuo_batch.providers.minimax import MinimaxAdapter

Reply = Callable[..., HttpResponse]
OK = {"status_code": 0, "status_msg": "success"}


@pytest.fixture
def minimax(api_key: str) -> MinimaxAdapter:
    return MinimaxAdapter("minimax", api_key)


def _answer(body: Mapping[str, object], status: int = 200) -> HttpResponse:
    return HttpResponse(status, orjson.dumps(body))


def test_text_to_video_request(
    minimax: MinimaxAdapter, api_key: str, text_request: VideoRequest
) -> None:
    req = minimax.submit_request(text_request, SubmitImages())
    assert (req.method, req.url) == ("POST", "https://api.minimax.io/v1/video_generation")
    assert req.headers["Authorization"] == f"Bearer {api_key}"
    assert req.json == {
        "model": "MiniMax-Hailuo-02",
        "prompt": "A cat walks through a neon alley [Push in]",
        "duration": 10,
        "resolution": "768P",
        "prompt_optimizer": False,
        "fast_pretreatment": True,
    }


def test_first_and_last_frame_request(
    minimax: MinimaxAdapter, frames_request: VideoRequest, frames: SubmitImages
) -> None:
    req = minimax.submit_request(frames_request, frames)
    assert req.json == {
        "model": "MiniMax-Hailuo-02",
        "prompt": "The car drives off [Pan right]",
        "first_frame_image": frames.first,
        "last_frame_image": frames.last,
        "duration": 6,
        "resolution": "1080P",
        "prompt_optimizer": True,
        "fast_pretreatment": False,
    }


URL = "https://x.test/a.jpg"
DATA = "data:image/png;base64,iVBORw0KGgo="
NO_OPTIMIZER = {"prompt_optimizer": False}


def _v1(model: Model, image: bool = False, **fields: object) -> VideoRequest:
    frame = ImageRef(URL, "url") if image else None
    request = VideoRequest(model, "a red fox in snow", 6, "720P", image=frame)
    return replace(request, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("request_", "images", "expected"),
    [
        pytest.param(_v1("t2v-01"), SubmitImages(), {"model": "T2V-01"}, id="t2v-01"),
        pytest.param(
            _v1("t2v-01-director", prompt_optimizer=False),
            SubmitImages(),
            {"model": "T2V-01-Director", **NO_OPTIMIZER},
            id="t2v-01-director",
        ),
        pytest.param(
            _v1("i2v-01", True),
            SubmitImages(URL),
            {"model": "I2V-01", "first_frame_image": URL},
            id="i2v-01",
        ),
        pytest.param(
            _v1("i2v-01-director", True),
            SubmitImages(DATA),
            {"model": "I2V-01-Director", "first_frame_image": DATA},
            id="i2v-01-director",
        ),
        pytest.param(
            _v1("i2v-01-live", True),
            SubmitImages(URL),
            {"model": "I2V-01-live", "first_frame_image": URL},
            id="i2v-01-live",
        ),
        pytest.param(
            _v1("s2v-01", subject_reference=ImageRef(URL, "url")),
            SubmitImages(subject=DATA),
            {"model": "S2V-01", "subject_reference": [{"type": "character", "image": [DATA]}]},
            id="s2v-01",
        ),
        pytest.param(_v1("video-01"), SubmitImages(), {"model": "T2V-01"}, id="video-01-t2v"),
        pytest.param(
            _v1("video-01", True),
            SubmitImages(URL),
            {"model": "I2V-01", "first_frame_image": URL},
            id="video-01-i2v",
        ),
    ],
)
def test_the_01_family_sends_neither_duration_nor_resolution(
    minimax: MinimaxAdapter,
    request_: VideoRequest,
    images: SubmitImages,
    expected: dict[str, object],
) -> None:
    """720P and 6 s are fixed, S2V-01's schema has no such fields, none takes a fast
    pretreatment; `video-01` is gone from the enums: T2V-01, or I2V-01 with a frame."""
    req = minimax.submit_request(request_, images)
    assert req.url == "https://api.minimax.io/v1/video_generation"
    assert req.json == {"prompt": "a red fox in snow", "prompt_optimizer": True, **expected}


@pytest.mark.parametrize(
    ("model", "images", "expected"),
    [
        ("hailuo-2.3", SubmitImages(), {"model": "MiniMax-Hailuo-2.3"}),
        (
            "hailuo-2.3",
            SubmitImages(URL),
            {"model": "MiniMax-Hailuo-2.3", "first_frame_image": URL},
        ),
        (
            "hailuo-2.3-fast",
            SubmitImages(DATA),
            {"model": "MiniMax-Hailuo-2.3-Fast", "first_frame_image": DATA},
        ),
    ],
)
def test_hailuo_23_takes_duration_resolution_and_fast_pretreatment(
    minimax: MinimaxAdapter, model: Model, images: SubmitImages, expected: dict[str, object]
) -> None:
    request = VideoRequest(model, "p", 10, "768P", fast_pretreatment=True)
    req = minimax.submit_request(request, images)
    assert req.json == {
        **expected,
        "prompt": "p",
        "prompt_optimizer": True,
        "duration": 10,
        "resolution": "768P",
        "fast_pretreatment": True,
    }


def test_an_empty_prompt_is_left_out_where_an_image_leads(minimax: MinimaxAdapter) -> None:
    """The prompt is optional for I2V and S2V; an empty one would be refused."""
    req = minimax.submit_request(_v1("i2v-01", True, prompt=""), SubmitImages(URL))
    assert req.json == {"model": "I2V-01", "first_frame_image": URL, "prompt_optimizer": True}


@pytest.mark.parametrize(
    ("request_", "images", "needle"),
    [
        (_v1("s2v-01"), SubmitImages(), "needs a subject reference"),
        (_v1("t2v-01"), SubmitImages(subject=URL), "takes no subject reference"),
        (_v1("t2v-01"), SubmitImages(references=(("image", URL),)), "takes no references"),
        (_v1("hailuo-2.3", True), SubmitImages(URL, DATA), "takes no last frame"),
        (_v1("video-01", True), SubmitImages(URL, DATA), "takes no last frame"),
    ],
)
def test_what_the_v1_wire_has_no_field_for_is_refused(
    minimax: MinimaxAdapter, request_: VideoRequest, images: SubmitImages, needle: str
) -> None:
    """Never silently dropped: the job fails as invalid input before anything is sent."""
    with pytest.raises(ProviderError) as caught:
        minimax.submit_request(request_, images)
    assert caught.value.kind == "invalid_input"
    assert needle in caught.value.message


def test_h3_goes_to_the_v2_wire(minimax: MinimaxAdapter) -> None:
    req = minimax.submit_request(VideoRequest("h3", "p", 5, "2K"), SubmitImages())
    assert req.url == "https://api.minimax.io/v2/video_generation"
    assert req.json is not None and req.json["model"] == "MiniMax-H3"


def test_answers_are_read_by_the_api_that_gave_them(minimax: MinimaxAdapter, reply: Reply) -> None:
    """v1 and V2 both answer `{"task_id"}`-like bodies: the answering URL decides."""
    v2_submit = "https://api.minimax.io/v2/video_generation"
    answer = replace(reply("minimax/v2", "submit_ok"), url=v2_submit)
    task_id = minimax.parse_submit(answer)
    assert task_id == "v2:424010985738629"
    poll = minimax.poll_request(task_id)
    assert poll.url == "https://api.minimax.io/v2/query/video_generation/424010985738629"
    status = minimax.parse_poll(replace(reply("minimax/v2", "poll_succeeded"), url=poll.url))
    assert status.state == "succeeded" and minimax.retrieve_request(status) is None
    refusal = replace(reply("minimax/v2", "error_402_insufficient_balance"), url=v2_submit)
    assert minimax.classify(refusal).kind == "quota"
    with pytest.raises(ProviderError) as caught:
        minimax.parse_submit(refusal)
    assert caught.value.kind == "quota"
    v1_submit = replace(
        reply("minimax", "submit_ok"), url="https://api.minimax.io/v1/video_generation"
    )
    assert minimax.parse_submit(v1_submit) == "106916112212032"


def test_a_v2_path_answering_in_v1s_envelope_is_still_read(minimax: MinimaxAdapter) -> None:
    """A gateway refusal without V2's `error` falls back to base_resp, then the status."""
    url = "https://api.minimax.io/v2/video_generation"
    v1_style = HttpResponse(
        401, b'{"base_resp": {"status_code": 2049, "status_msg": "no"}}', url=url
    )
    assert minimax.classify(v1_style).kind == "auth"
    assert minimax.classify(HttpResponse(503, b"busy", url=url)).kind == "transient"


def test_base_url_replaces_the_origin(api_key: str) -> None:
    adapter = MinimaxAdapter("minimax", api_key, base_url="http://127.0.0.1:8765/minimax")
    assert adapter.poll_request("362090061725888").url == (
        "http://127.0.0.1:8765/minimax/v1/query/video_generation?task_id=362090061725888"
    )


def test_parse_submit(minimax: MinimaxAdapter, reply: Reply) -> None:
    assert minimax.parse_submit(reply("minimax", "submit_ok")) == "106916112212032"


SUBMIT_ERRORS: list[tuple[str, ErrorKind]] = [
    ("submit_1000_unknown", "transient"),
    ("submit_1001_timeout", "transient"),
    ("submit_1002_rate_limit", "rate_limited"),
    ("submit_1004_auth", "auth"),
    ("submit_1008_balance", "quota"),
    ("submit_1013_internal", "transient"),
    ("submit_1026_sensitive", "content_policy"),
    ("submit_1028_plan_quota", "quota"),
    ("submit_1030_plan_quota", "quota"),
    ("submit_1033_system", "transient"),
    ("submit_1039_tpm", "rate_limited"),
    ("submit_2013_invalid", "invalid_input"),
    ("submit_2013_s2v_subject", "invalid_input"),
    ("submit_2038_verification", "auth"),
    ("submit_2049_invalid_key", "auth"),
    ("submit_2061_token_plan", "auth"),  # needs a pay-as-you-go key
]


@pytest.mark.parametrize(("name", "kind"), SUBMIT_ERRORS)
def test_http_200_with_an_error_code_raises_classified(
    minimax: MinimaxAdapter, reply: Reply, name: str, kind: ErrorKind
) -> None:
    """MiniMax answers errors with HTTP 200: the HTTP code alone is never enough."""
    response = reply("minimax", name)
    assert response.status == 200
    with pytest.raises(ProviderError) as caught:
        minimax.parse_submit(response)
    code = orjson.loads(response.body)["base_resp"]["status_code"]
    assert (caught.value.kind, caught.value.status) == (kind, 200)
    assert f"status_code {code}" in caught.value.message
    assert minimax.classify(response).kind == kind


@pytest.mark.parametrize(
    "body",
    [
        {"task_id": "106916112212032"},  # no base_resp: minimax-mcp refuses it too
        {"task_id": "", "base_resp": OK},
        {"base_resp": {"status_msg": "success"}},
    ],
)
def test_submit_without_proof_of_success_is_refused(
    minimax: MinimaxAdapter, body: dict[str, object]
) -> None:
    with pytest.raises(ProviderError) as caught:
        minimax.parse_submit(_answer(body))
    assert caught.value.kind == "transient"


HTTP_ERRORS: list[tuple[int, bytes, ErrorKind]] = [
    (401, b'{"base_resp": {"status_code": 0, "status_msg": ""}}', "auth"),
    (403, b"Forbidden", "auth"),
    (429, b"Too Many Requests", "rate_limited"),
    (408, b"", "transient"),
    (504, b"<html>Gateway Timeout</html>", "transient"),
    (500, b'{"base_resp": {"status_code": 1008, "status_msg": "insufficient balance"}}', "quota"),
    (500, b'{"base_resp": {"status_code": 4242, "status_msg": "new code"}}', "transient"),
    (200, b'{"base_resp": {"status_code": 4242, "status_msg": "new code"}}', "provider_error"),
]


@pytest.mark.parametrize(("status", "body", "kind"), HTTP_ERRORS)
def test_classify_http_errors(
    minimax: MinimaxAdapter, status: int, body: bytes, kind: ErrorKind
) -> None:
    """Real HTTP errors count too; a known base_resp code wins over the HTTP status."""
    assert minimax.classify(HttpResponse(status, body)).kind == kind


def test_classify_quotes_trace_id_and_retry_after(minimax: MinimaxAdapter) -> None:
    response = HttpResponse(429, b"{}", {"retry-after": "12", "trace-id": "0a1b2c3d"})
    error = minimax.classify(response)
    assert (error.kind, error.retry_after) == ("rate_limited", 12.0)
    assert "trace-id 0a1b2c3d" in error.message


POLLS: list[tuple[str, TaskState, FailureKind | None]] = [
    ("poll_preparing", "queued", None),
    ("poll_queueing", "queued", None),
    ("poll_processing", "running", None),
    ("poll_success", "finalizing", None),
    ("poll_success_01_family", "finalizing", None),
    ("poll_fail_1026", "failed", "content_policy"),
    ("poll_fail_1027", "failed", "content_policy"),
    ("poll_fail_generic", "failed", "provider_error"),
]


@pytest.mark.parametrize(("name", "state", "failure"), POLLS)
def test_parse_poll(
    minimax: MinimaxAdapter,
    reply: Reply,
    name: str,
    state: TaskState,
    failure: FailureKind | None,
) -> None:
    status = minimax.parse_poll(reply("minimax", name))
    assert (status.state, status.failure, status.video_url) == (state, failure, None)
    assert status.raw_status == orjson.loads(reply("minimax", name).body)["status"]


def test_success_needs_files_retrieve(minimax: MinimaxAdapter, reply: Reply) -> None:
    status = minimax.parse_poll(reply("minimax", "poll_success"))
    assert status.file_id == "362088325627994"
    req = minimax.retrieve_request(status)
    assert req is not None
    assert (req.method, req.url) == (
        "GET",
        "https://api.minimax.io/v1/files/retrieve?file_id=362088325627994",
    )


def test_no_retrieve_before_success(minimax: MinimaxAdapter, reply: Reply) -> None:
    assert minimax.retrieve_request(minimax.parse_poll(reply("minimax", "poll_processing"))) is None


def test_fail_message_names_the_code(minimax: MinimaxAdapter, reply: Reply) -> None:
    status = minimax.parse_poll(reply("minimax", "poll_fail_1027"))
    assert status.message == "output new_sensitive (status_code 1027)"
    # A zero base_resp says "success" about the query, nothing about the failure.
    assert minimax.parse_poll(reply("minimax", "poll_fail_generic")).message == "task failed"


def test_poll_rate_limit_raises(minimax: MinimaxAdapter, reply: Reply) -> None:
    """A non-zero base_resp on a non-Fail answer is a failed query, not a failed task."""
    with pytest.raises(ProviderError) as caught:
        minimax.parse_poll(reply("minimax", "poll_1002_rate_limit"))
    assert caught.value.kind == "rate_limited"


@pytest.mark.parametrize(
    ("raw", "state"),
    [("success", "finalizing"), ("PROCESSING", "running"), ("failed", "failed")],
)
def test_status_compare_ignores_case(minimax: MinimaxAdapter, raw: str, state: TaskState) -> None:
    """Callbacks use lower case (and `failed`); the query uses capitals."""
    status = minimax.parse_poll(_answer({"status": raw, "file_id": "7", "base_resp": OK}))
    assert status.state == state


def test_unknown_status_keeps_polling(minimax: MinimaxAdapter) -> None:
    status = minimax.parse_poll(_answer({"status": "Archived", "file_id": "", "base_resp": OK}))
    assert status.state == "running"
    assert status.warning is not None
    assert "Archived" in status.warning


def test_success_without_file_id_keeps_polling(minimax: MinimaxAdapter) -> None:
    status = minimax.parse_poll(_answer({"status": "Success", "file_id": "", "base_resp": OK}))
    assert (status.state, status.file_id) == ("running", None)
    assert status.warning is not None


def test_parse_retrieve(minimax: MinimaxAdapter, reply: Reply) -> None:
    status = minimax.parse_retrieve(reply("minimax", "retrieve_ok"))
    assert status.state == "succeeded"
    assert status.video_url == (
        "https://video-product.cdn.minimax.io/inference_output/video/2025-09-19/"
        "7c1d2e3f-0a1b-4c5d-8e9f-102132435465/output.mp4"
    )
    assert (status.url_ttl, status.file_id) == (3600.0, "362088325627994")  # "valid 1 hour"


def test_retrieve_falls_back_to_backup_url(minimax: MinimaxAdapter, reply: Reply) -> None:
    status = minimax.parse_retrieve(reply("minimax", "retrieve_backup_only"))
    assert status.video_url is not None
    assert status.video_url.startswith("https://video-product-backup.cdn.minimax.io/")


def test_retrieve_without_url_stays_finalizing(minimax: MinimaxAdapter) -> None:
    body = {"file": {"file_id": 5, "download_url": ""}, "base_resp": OK}
    status = minimax.parse_retrieve(_answer(body))
    assert (status.state, status.file_id) == ("finalizing", "5")
    assert minimax.retrieve_request(status) is not None


def test_retrieve_error_code_raises(minimax: MinimaxAdapter) -> None:
    body = {"base_resp": {"status_code": 1004, "status_msg": "token mismatch"}}
    with pytest.raises(ProviderError) as caught:
        minimax.parse_retrieve(_answer(body))
    assert caught.value.kind == "auth"


def test_malformed_json_is_transient(minimax: MinimaxAdapter) -> None:
    with pytest.raises(ProviderError) as caught:
        minimax.parse_retrieve(HttpResponse(200, b'{"file": '))
    assert caught.value.kind == "transient"


def test_no_task_list_can_reconcile_a_lost_reply(minimax: MinimaxAdapter) -> None:
    """V1 (Hailuo, the 01 family) has no documented task list; the V2 list holds only H3
    tasks and no input (docs/providers/minimax.md): a lost reply is a possible duplicate."""
    assert not isinstance(minimax, TaskFinder)


def test_key_never_leaks(minimax: MinimaxAdapter, api_key: str, text_request: VideoRequest) -> None:
    assert api_key not in repr(minimax.submit_request(text_request, SubmitImages()))
    assert api_key not in repr(minimax.retrieve_request(TaskStatus("finalizing", "", file_id="1")))
    echo = orjson.dumps({"base_resp": {"status_code": 1004, "status_msg": f"bad key {api_key}"}})
    error = minimax.classify(HttpResponse(200, echo))
    assert api_key not in str(error)


def test_every_fixture_is_exercised(recorded: Callable[[str], set[str]]) -> None:
    used = {row[0] for row in SUBMIT_ERRORS} | {row[0] for row in POLLS}
    used |= {"submit_ok", "poll_1002_rate_limit", "retrieve_ok", "retrieve_backup_only"}
    assert recorded("minimax") == used
