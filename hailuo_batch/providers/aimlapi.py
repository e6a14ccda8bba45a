"""AI/ML API's current video-generation protocol: requests and readings. No I/O.

docs/providers/aimlapi.md (and the aimlapi SDK): `POST /v2/video/generations` with a `model` in
the body, polled at `GET /v2/video/generations?generation_id=`. The legacy per-vendor
paths are not used. The URL is signed with an `Expires=` epoch. Times are in seconds.
"""

from __future__ import annotations

import re

from hailuo_batch.core.http import HttpRequest, HttpResponse, SubmitImages, TaskState, TaskStatus
from hailuo_batch.core.jobs import ErrorKind, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers._adapter import (
    Adapter,
    as_number,
    as_text,
    describe,
    dig,
    failure_from_text,
    image_fields,
    loose_json,
    query_value,
    snippet,
    state_for,
)

_GENERATIONS = "/v2/video/generations"
_MODEL_ID = {"hailuo-02": "minimax/hailuo-02", "video-01": "video-01"}

_STATE_BY_STATUS: dict[str, TaskState] = {
    "queued": "queued",
    "waiting": "queued",  # older example code; gone from the current OpenAPI
    "generating": "running",
    "active": "running",  # ditto
    "completed": "succeeded",
    "succeeded": "succeeded",  # some non-MiniMax models
    "error": "failed",
}
_KEY_WORDS = re.compile(r"api.?key|auth|token|unauthori[sz]ed", re.IGNORECASE)


class AimlapiAdapter(Adapter):
    """AI/ML API: `generation_id` (or `id`) in, `video.url` out."""

    PROVIDERS = frozenset({"aimlapi"})

    def submit_request(self, request: VideoRequest, images: SubmitImages) -> HttpRequest:
        self._refuse_unsold(request, images)
        if request.model == "video-01":
            # Video-01's legacy schema takes prompt, first frame and optimizer only; its
            # current names are assumed to follow Hailuo-02's (UNVERIFIED for video-01).
            body: dict[str, object] = {
                "model": _MODEL_ID["video-01"],
                "prompt": request.prompt,
                **image_fields(images, "image_url"),
                "enhance_prompt": request.prompt_optimizer,
            }
        else:
            body = {
                "model": _MODEL_ID["hailuo-02"],
                "prompt": request.prompt,
                **image_fields(images, "image_url", "last_image_url"),
                "resolution": request.resolution,
                "duration": request.duration,
                "enhance_prompt": request.prompt_optimizer,
            }
        return self._post(_GENERATIONS, body)

    def parse_submit(self, response: HttpResponse) -> str:
        """`generation_id` per the examples, `id` per the current OpenAPI: either, if a string."""
        body = self._ok_json(response)
        for key in ("generation_id", "id"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
        raise self._error(response, "submit answer has no generation_id or id", "transient")

    def poll_request(self, task_id: str) -> HttpRequest:
        return self._get(_GENERATIONS, generation_id=task_id)

    def parse_poll(self, response: HttpResponse) -> TaskStatus:
        body = self._ok_json(response)
        raw = as_text(body.get("status"))
        state = state_for(_STATE_BY_STATUS, raw)
        if state is None:
            return self._still_running(raw)
        if state == "failed":
            # `error` is `{name, message}` per schema, or the upstream body passed through.
            error = describe(dig(body, "error", "message")) or describe(body.get("error"))
            return self._failed(raw, failure_from_text(error), error or f"generation {raw}")
        if state == "succeeded":
            url = as_text(dig(body, "video", "url")) or _first_url(body)
            if not url:
                return self._still_running(raw, f"{raw} without a video URL")
            return TaskStatus(
                "succeeded",
                raw,
                progress=1.0,
                video_url=url,
                url_ttl=self.capabilities.url_ttl,
                url_expires_at=as_number(query_value(url, "Expires")),
            )
        return TaskStatus(state, raw)

    def classify(self, response: HttpResponse) -> ProviderError:
        """Read `{message, path, requestId, statusCode, timestamp}` with its HTTP status."""
        body = loose_json(response)
        message = describe(body.get("message")) or snippet(response)
        kind: ErrorKind | None = None
        if response.status == 403:
            # 403 is "out of credits" unless the message is about the key itself.
            kind = "auth" if _KEY_WORDS.search(message) else "quota"
        text = f"HTTP {response.status}: {message}"
        request_id = as_text(body.get("requestId"))
        if request_id:
            text += f" (requestId {request_id})"
        return self._error(response, text, kind)


def _first_url(value: object) -> str:
    """The first string `url` found depth-first, as the aimlapi SDK reads other shapes."""
    if isinstance(value, dict):
        found = value.get("url")
        if isinstance(found, str) and found:
            return found
        children: list[object] = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return ""
    for child in children:
        url = _first_url(child)
        if url:
            return url
    return ""
