"""AI/ML API's current video-generation protocol: requests and readings. No I/O.

docs/providers/aimlapi.md (and the aimlapi SDK): `POST /v2/video/generations` with a `model` in
the body (the offer's wire id in the capability table), polled at
`GET /v2/video/generations?generation_id=`. The legacy per-vendor paths are not used.
The URL is signed with an `Expires=` epoch. Answers report what the task cost
(`meta.usage`), read into `TaskStatus.charged_usd`. Times are in seconds.
"""

from __future__ import annotations

import re
from dataclasses import replace

from hailuo_batch.core.http import HttpRequest, HttpResponse, SubmitImages, TaskState, TaskStatus
from hailuo_batch.core.jobs import ErrorKind, ReferenceKind, VideoRequest
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
    reference_fields,
    snippet,
    state_for,
)

_GENERATIONS = "/v2/video/generations"
# The 01 family's schemas (`video-01`, `video-01-live2d`) take a prompt, a first frame and
# the optimizer only: its videos are 6 s at 720P.
_FIXED_LENGTH = frozenset({"video-01", "video-01-live2d"})
# H3's reference media as flat URL lists (`minimax/h3` schema). The names say URLs; whether
# data URIs are taken there is UNVERIFIED (the first frame's field says "or Base64"): local
# reference images are sent as data URIs, and a refusal reads as `invalid_input`.
_REFERENCE_FIELDS: dict[ReferenceKind, str] = {
    "image": "reference_image_urls",
    "video": "video_urls",
    "audio": "audio_urls",
}
CREDITS_PER_USD = 2_000_000  # "$1 USD = 2,000,000 credits" (faq/how-can-i-track-my-funds.md)

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
        wire = self._refuse_unsold(request, images).wire
        body: dict[str, object] = {
            "model": wire,
            "prompt": request.prompt,
            **image_fields(images, "image_url", "last_image_url"),
        }
        if request.model == "h3":
            # No optimizer: H3 has none. `ratio` left out is `adaptive` (16:9 for text only).
            body.update(reference_fields(images, _REFERENCE_FIELDS))
            body.update(duration=request.duration, resolution=request.resolution)
            if request.ratio is not None:
                body["ratio"] = request.ratio
            return self._post(_GENERATIONS, body)
        if wire not in _FIXED_LENGTH:
            body.update(resolution=request.resolution, duration=request.duration)
        body["enhance_prompt"] = request.prompt_optimizer
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
        return replace(self._status(body), charged_usd=_charged_usd(body))

    def _status(self, body: dict[str, object]) -> TaskStatus:
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


def _charged_usd(body: dict[str, object]) -> float | None:
    """What the answer says the task cost: `usd_spent` (H3's schema), else `credits_used`
    in dollars (docs/providers/prices.md §2); None when it says neither."""
    usd = as_number(dig(body, "meta", "usage", "usd_spent"))
    if usd is not None:
        return usd
    credits = as_number(dig(body, "meta", "usage", "credits_used"))
    return None if credits is None else credits / CREDITS_PER_USD


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
