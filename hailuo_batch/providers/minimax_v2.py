"""MiniMax's Video Generation V2 wire, which H3 is sold through: requests and readings. No I/O.

docs/providers/minimax.md sections 8 to 13 (MiniMax's v2-video-generation pages, H;
MiniMax-AI/cli `src/video/v2.ts`, H-code):

    POST {root}/v2/video_generation              {model, content[], resolution, duration, ratio}
                                                 -> {"task_id": "424010985738629"}
    GET  {root}/v2/query/video_generation/{id}   -> {"task": {id, status, content{url}, error,
                                                     usage, resolution, duration, ratio, ...}}

`root` is "" at MiniMax and "/v3/minimax" at Novita, which passes H3 through in MiniMax's
shape (docs/providers/novita.md section 7). The video URL is in the poll answer, for a
lifetime no source states (a poll again gives a fresh one, which the engine does when a
download is refused). Errors are real HTTP statuses with an OpenAI-style body whose
numeric code ends the message: `{"type": "error", "error": {"type", "message": "... (2013)",
"http_code": "400"}, "request_id"}`.

A V2 task id looks like a v1 one (both are digit strings), and `poll_request` is given only
the id, so this wire hands its ids out as `v2:<id>`: the host adapter polls V2 for those.

Read leniently, as no primary source settles them (UNVERIFIED): `expired`, a status only
MiniMax-AI/cli knows, ends the task failed as `expired`; `usage` may be absent or `{}`; the
id may come as `task.id`; the body for an unknown id is assumed an OpenAI-style 400; at
Novita, errors may come in Novita's own envelope, which the host adapter reads (`fallback`).
The V2 task list exists, but its entries carry no input, so a submit whose reply was lost
cannot be found there: this wire is no `TaskFinder`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

from hailuo_batch.core.http import HttpRequest, HttpResponse, SubmitImages, TaskState, TaskStatus
from hailuo_batch.core.jobs import ErrorKind, FailureKind, ReferenceKind, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers._adapter import (
    Adapter,
    as_id,
    as_object,
    as_text,
    describe,
    dig,
    loose_json,
    snippet,
    state_for,
)
from hailuo_batch.providers.minimax_codes import KIND_BY_CODE, failure_for

MODEL_ID = "MiniMax-H3"
TASK_PREFIX = "v2:"

_STATE_BY_STATUS: dict[str, TaskState] = {
    "queued": "queued",
    "running": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "failed",  # only a DELETE of a queued task does this, never ours
    "expired": "failed",  # UNVERIFIED: MiniMax-AI/cli's failed set, not the current pages
}
_KIND_BY_TYPE: dict[str, ErrorKind] = {  # `error.type`, where the message has no known code
    "bad_request_error": "invalid_input",
    "authorized_error": "auth",
    "insufficient_balance_error": "quota",
    "unprocessable_entity_error": "invalid_input",
    "rate_limit_error": "rate_limited",
    "server_error": "transient",
    "overloaded_error": "transient",
}
_TRAILING_CODE = re.compile(r"\((\d{3,5})\)\s*$")
_REFERENCE_ITEM: dict[ReferenceKind, tuple[str, str]] = {  # content item type, role
    "image": ("image_url", "reference_image"),
    "video": ("video_url", "reference_video"),
    "audio": ("audio_url", "reference_audio"),
}


def is_v2_task(task_id: str) -> bool:
    """Whether a task id was handed out by this wire (see the module docstring)."""
    return task_id.startswith(TASK_PREFIX)


class MinimaxV2Adapter(Adapter):
    """The V2 wire under one provider's `root`. MiniMax's and Novita's adapters hold one
    and hand it their H3 jobs, the answers from its paths, and the tasks it created.

    `fallback` reads an error body that is not V2's (the host's own envelope); without
    one, such an answer is read by its HTTP status.
    """

    # The hosts: MiniMax, and Novita's protocol, whose HighwayAPI sells no H3 (refused as
    # unsold by `_refuse_unsold`, like any model a provider's table lacks).
    PROVIDERS = frozenset({"minimax", "novita", "highway"})

    def __init__(
        self,
        name: str,
        api_key: str,
        base_url: str | None = None,
        *,
        root: str = "",
        fallback: Callable[[HttpResponse], ProviderError] | None = None,
    ) -> None:
        super().__init__(name, api_key, base_url)
        self._root = root
        self._fallback = fallback

    def answered(self, response: HttpResponse) -> bool:
        """Whether an answer came from this wire's paths (`HttpResponse.url`)."""
        return response.url.startswith(f"{self._origin}{self._root}/v2/")

    def submit_request(self, request: VideoRequest, images: SubmitImages) -> HttpRequest:
        self._refuse_unsold(request, images)
        if images.subject or not request.prompt.strip():
            problem = "a subject reference" if images.subject else "an empty prompt"
            raise ProviderError("invalid_input", self.name, f"H3 takes no {problem}")
        return self._post(f"{self._root}/v2/video_generation", submit_body(request, images))

    def parse_submit(self, response: HttpResponse) -> str:
        body = self._ok_json(response)
        task_id = as_id(body.get("task_id")) or as_id(dig(body, "task", "id"))
        if not task_id:
            raise self._error(response, "submit answer has no task_id", "transient")
        return TASK_PREFIX + task_id

    def poll_request(self, task_id: str) -> HttpRequest:
        bare = quote(task_id.removeprefix(TASK_PREFIX), safe="")
        return self._get(f"{self._root}/v2/query/video_generation/{bare}")

    def parse_poll(self, response: HttpResponse) -> TaskStatus:
        task = as_object(self._ok_json(response).get("task"))
        raw = as_text(task.get("status"))
        state = state_for(_STATE_BY_STATUS, raw)
        if state is None:
            return self._still_running(raw)
        if state == "failed":
            return self._failed(raw, *_failure(raw, task))
        if state == "succeeded":
            url = as_text(dig(task, "content", "url"))
            if not url:
                return self._still_running(raw, f"{raw} without a content.url")
            return TaskStatus("succeeded", raw, progress=1.0, video_url=url)
        return TaskStatus(state, raw)

    def classify(self, response: HttpResponse) -> ProviderError:
        """The code ending `error.message` decides, else `error.type`, else the HTTP status;
        a body without `error` is the host's envelope (`fallback`)."""
        body = loose_json(response)
        error = as_object(body.get("error"))
        if not error:
            if self._fallback is not None:
                return self._fallback(response)
            return self._error(response, f"HTTP {response.status}: {snippet(response)}")
        message = describe(error.get("message")) or snippet(response)
        error_type = as_text(error.get("type"))
        found = _TRAILING_CODE.search(message)
        kind = KIND_BY_CODE.get(int(found[1])) if found else None
        text = f"HTTP {response.status} {error_type or 'error'}: {message}"
        request_id = as_text(body.get("request_id"))
        if request_id:
            text += f" (request_id {request_id})"
        return self._error(response, text, kind or _KIND_BY_TYPE.get(error_type))


def submit_body(request: VideoRequest, images: SubmitImages) -> dict[str, object]:
    """The V2 body: the prompt as the one text item, then frames or references as items
    with roles. No prompt optimizer and no audio switch: H3 has neither."""
    content: list[dict[str, object]] = [{"type": "text", "text": request.prompt}]
    for role, url in (("first_frame", images.first), ("last_frame", images.last)):
        if url:
            content.append(_item("image_url", url, role))
    for kind, url in images.references:
        item_type, role = _REFERENCE_ITEM[kind]
        content.append(_item(item_type, url, role))
    return {
        "model": MODEL_ID,
        "content": content,
        "resolution": request.resolution,
        "duration": request.duration,
        "ratio": _ratio(request, len(content) == 1),
    }


def _item(kind: str, url: str, role: str) -> dict[str, object]:
    return {"type": kind, kind: {"url": url}, "role": role}


def _ratio(request: VideoRequest, text_only: bool) -> str:
    """The frame's shape. Text-only needs a concrete one ("adaptive" is refused: there is
    nothing to adapt to), so an absent or adaptive ratio is sent as 16:9, the shape AI/ML
    API documents for H3's adaptive text-to-video. With frames MiniMax ignores it."""
    if text_only and request.ratio in (None, "adaptive"):
        return "16:9"
    return request.ratio or "adaptive"


def _failure(raw: str, task: dict[str, object]) -> tuple[FailureKind, str]:
    """Why a task ended failed: `error.code` is a string code ("1026") with a message."""
    status = raw.strip().casefold()
    if status == "expired":
        return "expired", "the task expired before it could be fetched"
    if status == "cancelled":
        return "provider_error", "the task was cancelled"
    code = as_id(dig(task, "error", "code"))
    message = describe(dig(task, "error", "message")) or f"task {raw}"
    if not code:
        return "provider_error", message
    return failure_for(int(code) if code.isdigit() else None), f"{message} (code {code})"
