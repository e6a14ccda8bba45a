"""Novita AI's v3 async protocol, also spoken by HighwayAPI (its white-label). No I/O.

docs/providers/novita.md §2: one submit path per model, `POST /v3/async/<path>` (the
offer's wire id in the capability table), all polled at `GET /v3/async/task-result`.
Hailuo-2.3 has a text and an image path, chosen by the first frame; the 01 family shares
`minimax-video-01`. The video URL is in the poll answer: two steps, no retrieve. H3 is
MiniMax's V2 wire passed through under `/v3/minimax` (section 7): `MinimaxV2Adapter`
speaks it, with Novita's own error envelope read where V2's is absent (which one Novita
sends is UNVERIFIED). Times are in seconds.
"""

from __future__ import annotations

from functools import cached_property

from hailuo_batch.core.http import HttpRequest, HttpResponse, SubmitImages, TaskState, TaskStatus
from hailuo_batch.core.jobs import ErrorKind, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers._adapter import (
    Adapter,
    as_number,
    as_object,
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
from hailuo_batch.providers.minimax_v2 import MinimaxV2Adapter, is_v2_task

_VIDEO_01 = "minimax-video-01"
_PRETREATMENT = frozenset({"minimax-hailuo-02", "minimax-hailuo-2.3-i2v"})

_STATE_BY_STATUS: dict[str, TaskState] = {
    "task_status_queued": "queued",
    "task_status_processing": "running",
    "task_status_succeed": "succeeded",
    "task_status_failed": "failed",
    # UNVERIFIED (one third-party schema); there is no cancel endpoint, so it is a failure.
    "task_status_canceled": "failed",
    "task_status_cancelled": "failed",
}
# `TASK_STATUS_UNKNOWN` (JS SDK) is deliberately absent: it stays running with a warning.

_KIND_BY_REASON: dict[str, ErrorKind] = {
    "INVALID_REQUEST_BODY": "invalid_input",
    "FAILED_TO_AUTH": "auth",
    "INVALID_API_KEY": "auth",
    "BILLING_AUTH_FAILED": "auth",
    # Balance reasons arrive as HTTP 403: the reason, not the status, says it is quota.
    "NOT_ENOUGH_BALANCE": "quota",
    "BILLING_BALANCE_NOT_ENOUGH": "quota",
    "BILLING_FAILED": "quota",
    "RATE_LIMIT_EXCEEDED": "rate_limited",
    "TOKEN_LIMIT_EXCEEDED": "rate_limited",
    "SERVICE_NOT_AVAILABLE": "transient",
}
# Other reasons (TASK_FAILED 500, PATH_NOT_FOUND 404) read as their HTTP status says.


class NovitaAdapter(Adapter):
    """Novita AI and HighwayAPI: same paths and JSON, different origin and model list."""

    PROVIDERS = frozenset({"novita", "highway"})

    def submit_request(self, request: VideoRequest, images: SubmitImages) -> HttpRequest:
        if request.model == "h3":
            return self._h3.submit_request(request, images)
        offer = self._refuse_unsold(request, images)
        path = offer.wire.replace("{t2v|i2v}", "i2v" if images.first else "t2v")
        if path == _VIDEO_01:
            # Its first frame is a URL ("URL of the first frame"): the table says so.
            return self._post(
                f"/v3/async/{path}",
                {
                    "prompt": request.prompt,
                    **image_fields(images, "image_url"),
                    "enable_prompt_expansion": request.prompt_optimizer,
                },
            )
        # The current schema's `image`/`end_image`; mid-2025 docs had `image_url` instead.
        body: dict[str, object] = {
            "prompt": request.prompt,
            **image_fields(images, "image", "end_image"),
            "duration": request.duration,
            "resolution": request.resolution,
            "enable_prompt_expansion": request.prompt_optimizer,
        }
        # Documented on 02 and 2.3-i2v; on 2.3-t2v only by HighwayAPI (UNVERIFIED at
        # Novita): there it is sent only when on, so the default never depends on it.
        # 2.3-fast has none, and the table refuses a request that turns it on.
        if path in _PRETREATMENT or request.fast_pretreatment:
            body["fast_pretreatment"] = request.fast_pretreatment
        return self._post(f"/v3/async/{path}", body)

    def parse_submit(self, response: HttpResponse) -> str:
        if self._h3.answered(response):
            return self._h3.parse_submit(response)
        task_id = as_text(self._ok_json(response).get("task_id"))
        if not task_id:
            raise self._error(response, "submit answer has no task_id", "transient")
        return task_id

    def poll_request(self, task_id: str) -> HttpRequest:
        if is_v2_task(task_id):
            return self._h3.poll_request(task_id)
        return self._get("/v3/async/task-result", task_id=task_id)

    def parse_poll(self, response: HttpResponse) -> TaskStatus:
        if self._h3.answered(response):
            return self._h3.parse_poll(response)
        body = self._ok_json(response)
        task = as_object(body.get("task"))
        raw = as_text(task.get("status"))
        state = state_for(_STATE_BY_STATUS, raw)
        if state is None:
            return self._still_running(raw)
        if state == "failed":
            reason = describe(task.get("reason")) or f"task ended {raw}"
            return self._failed(raw, failure_from_text(reason), reason)
        if state == "succeeded":
            return self._succeeded(raw, as_object(dig(body, "videos", 0)))
        percent = as_number(task.get("progress_percent"))
        eta = as_number(task.get("eta"))
        return TaskStatus(
            state,
            raw,
            progress=None if percent is None else min(max(percent / 100.0, 0.0), 1.0),
            # 0 is what Novita sends when it has no estimate, not "done now".
            eta=eta if eta is not None and eta > 0 else None,
        )

    def _succeeded(self, raw: str, video: dict[str, object]) -> TaskStatus:
        url = as_text(video.get("video_url"))
        if not url:
            return self._still_running(raw, f"{raw} without a video_url")
        # `video_url_ttl` is "3600" in the docs, "0" in a real answer, an int in the SDK:
        # only a positive number counts, else the documented 1 h of the presigned URL.
        ttl = as_number(video.get("video_url_ttl"))
        # Tencent COS signs `q-sign-time=<start>;<end>`: the end is the URL's real expiry.
        sign_time = query_value(url, "q-sign-time") or ""
        return TaskStatus(
            "succeeded",
            raw,
            progress=1.0,
            video_url=url,
            url_ttl=ttl if ttl is not None and ttl > 0 else self.capabilities.url_ttl,
            url_expires_at=as_number(sign_time.rpartition(";")[2]),
        )

    @cached_property
    def _h3(self) -> MinimaxV2Adapter:
        """H3's pass-through: MiniMax's V2 wire under `/v3/minimax`."""
        return MinimaxV2Adapter(
            self.name, self._api_key, self._origin, root="/v3/minimax", fallback=self.classify
        )

    def classify(self, response: HttpResponse) -> ProviderError:
        """Read Novita's `{code, reason, message, metadata}` envelope; the reason decides."""
        body = loose_json(response)
        reason = as_text(body.get("reason")).upper()
        message = describe(body.get("message")) or snippet(response)
        trace_id = as_text(dig(body, "metadata", "trace_id"))
        text = f"HTTP {response.status} {reason or 'error'}: {message}"
        if trace_id:
            text += f" (trace_id {trace_id})"
        return self._error(response, text, _KIND_BY_REASON.get(reason))
