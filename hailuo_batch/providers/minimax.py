"""MiniMax's own video API (v1): submit, query, files/retrieve. No I/O.

docs/providers/minimax.md (and minimax-mcp): errors come back as HTTP 200 with a non-zero
`base_resp.status_code`, so every parse checks `base_resp` and never trusts the HTTP
code alone. A `Success` poll carries only a `file_id`: the URL takes a third call
(`finalizing` until then) and lives 1 hour. The v1 API has no task list: a submit whose
reply was lost cannot be found, so it is counted as a possible duplicate
(docs/providers/minimax.md). Times are in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping

from hailuo_batch.core.http import HttpRequest, HttpResponse, SubmitImages, TaskState, TaskStatus
from hailuo_batch.core.jobs import ErrorKind, FailureKind, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers._adapter import (
    Adapter,
    as_id,
    as_number,
    as_object,
    as_text,
    dig,
    image_fields,
    loose_json,
    snippet,
    state_for,
)
from hailuo_batch.providers.base import kind_for_http_status

_MODEL_ID = {"hailuo-02": "MiniMax-Hailuo-02", "video-01": "video-01"}

# Query statuses are capitalised; callbacks use lower case and `failed`: fold and accept both.
_STATE_BY_STATUS: dict[str, TaskState] = {
    "preparing": "queued",
    "queueing": "queued",
    "processing": "running",
    "success": "finalizing",
    "fail": "failed",
    "failed": "failed",
}

_KIND_BY_CODE: dict[int, ErrorKind] = {
    1000: "transient",  # unknown error, "retry later"
    1001: "transient",  # request timeout
    1024: "transient",  # internal error
    1033: "transient",  # system / downstream error
    1002: "rate_limited",
    1004: "auth",  # not authorized / token mismatch
    2049: "auth",  # invalid API key
    2038: "auth",  # real-name verification required: the account must be fixed
    1008: "quota",  # insufficient balance
    1026: "content_policy",  # input sensitive
    1027: "content_policy",  # output sensitive
    2013: "invalid_input",
}


def _failure(kind: ErrorKind | None) -> FailureKind:
    """What a code means for a task that already ended `Fail` (nothing left to retry)."""
    if kind is None or kind == "rate_limited" or kind == "transient":
        return "provider_error"
    return kind


class MinimaxAdapter(Adapter):
    """MiniMax official: `task_id` in, `file_id` from the query, URL from files/retrieve."""

    PROVIDERS = frozenset({"minimax"})

    def submit_request(self, request: VideoRequest, images: SubmitImages) -> HttpRequest:
        self._refuse_unsold(request, images)
        body: dict[str, object] = {"model": _MODEL_ID[request.model], "prompt": request.prompt}
        if request.model == "video-01":
            # Video-01 has no duration, resolution, last frame or fast pretreatment.
            body.update(image_fields(images, "first_frame_image"))
            body["prompt_optimizer"] = request.prompt_optimizer
        else:
            body.update(image_fields(images, "first_frame_image", "last_frame_image"))
            body["duration"] = request.duration
            body["resolution"] = request.resolution
            body["prompt_optimizer"] = request.prompt_optimizer
            body["fast_pretreatment"] = request.fast_pretreatment
        return self._post("/v1/video_generation", body)

    def parse_submit(self, response: HttpResponse) -> str:
        body = self._ok_json(response)
        self._raise_unless_ok(response, body)
        task_id = as_id(body.get("task_id"))
        if not task_id:
            raise self._error(response, "submit answer has no task_id", "transient")
        return task_id

    def poll_request(self, task_id: str) -> HttpRequest:
        return self._get("/v1/query/video_generation", task_id=task_id)

    def parse_poll(self, response: HttpResponse) -> TaskStatus:
        body = self._ok_json(response)
        raw = as_text(body.get("status"))
        state = state_for(_STATE_BY_STATUS, raw)
        if state == "failed":
            # On `Fail`, base_resp is the task's reason (1026/1027), not a query error.
            code, message = _base_resp(body)
            failure = _failure(_KIND_BY_CODE.get(code) if code is not None else None)
            detail = f"{message or 'task failed'} (status_code {code})" if code else "task failed"
            return self._failed(raw, failure, detail)
        self._raise_unless_ok(response, body)
        if state is None:
            return self._still_running(raw)
        if state == "finalizing":
            file_id = as_id(body.get("file_id"))
            if not file_id:
                return self._still_running(raw, f"{raw} without a file_id")
            return TaskStatus("finalizing", raw, progress=1.0, file_id=file_id)
        return TaskStatus(state, raw)

    def retrieve_request(self, status: TaskStatus) -> HttpRequest | None:
        """`files/retrieve` for a `finalizing` status: the only way to a download URL."""
        if status.state != "finalizing" or not status.file_id:
            return None
        return self._get("/v1/files/retrieve", file_id=status.file_id)

    def parse_retrieve(self, response: HttpResponse) -> TaskStatus:
        body = self._ok_json(response)
        self._raise_unless_ok(response, body)
        file = as_object(body.get("file"))
        file_id = as_id(file.get("file_id")) or None
        url = as_text(file.get("download_url")) or as_text(file.get("backup_download_url"))
        if not url:
            warning = f"{self.name}: files/retrieve has no download_url yet; ask again"
            return TaskStatus("finalizing", "Success", file_id=file_id, warning=warning)
        return TaskStatus(
            "succeeded",
            "Success",
            progress=1.0,
            video_url=url,
            url_ttl=self.capabilities.url_ttl,  # 1 h from when it is returned
            file_id=file_id,
        )

    def classify(self, response: HttpResponse) -> ProviderError:
        """A non-zero `base_resp` code decides; without one, the HTTP status does."""
        body = loose_json(response)
        code, message = _base_resp(body)
        trace_id = response.headers.get("trace-id")
        trace = f", trace-id {trace_id}" if trace_id else ""
        if code:
            kind = _KIND_BY_CODE.get(code)
            if kind is None:
                ok = 200 <= response.status < 300
                kind = "provider_error" if ok else kind_for_http_status(response.status)
            text = f"{message or 'error'} (status_code {code}{trace})"
            return self._error(response, text, kind)
        text = f"HTTP {response.status}: {message or snippet(response)}{trace}"
        return self._error(response, text)

    def _raise_unless_ok(self, response: HttpResponse, body: Mapping[str, object]) -> None:
        """minimax-mcp's rule: success needs `base_resp.status_code == 0`, present."""
        code, _ = _base_resp(body)
        if code is None:
            raise self._error(response, "answer has no base_resp.status_code", "transient")
        if code != 0:
            raise self.classify(response)


def _base_resp(body: Mapping[str, object]) -> tuple[int | None, str]:
    """`base_resp`'s code (None when absent or not a number) and its message."""
    number = as_number(dig(body, "base_resp", "status_code"))
    code = int(number) if number is not None else None
    return code, as_text(dig(body, "base_resp", "status_msg"))
