"""Replicate's predictions API for the MiniMax models it hosts: requests and readings. No I/O.

docs/providers/replicate.md (and replicate/replicate-python@0110c2c): an official model runs
with `POST /v1/models/{owner}/{name}/predictions` and `{"input": {...}}`, answered 201 with
a prediction; `GET /v1/predictions/{id}` is then polled until `succeeded` (the video URL in
`output`), `failed` (`error`), `canceled` or `aborted`: two steps, no retrieve. The inputs,
outputs and logs of API predictions are deleted an hour after they finish (`data_removed`),
so the URL lives an hour from `completed_at`. Errors are RFC 7807 problems (`title`,
`detail`, `status`; a 422 also lists `invalid_fields`). No cost is reported per prediction.
Times are in seconds.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

from hailuo_batch.core.http import HttpRequest, HttpResponse, SubmitImages, TaskState, TaskStatus
from hailuo_batch.core.jobs import ErrorKind, Model, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers._adapter import (
    Adapter,
    as_list,
    as_text,
    describe,
    dig,
    failure_from_text,
    image_fields,
    loose_json,
    snippet,
    state_for,
)

_STATE_BY_STATUS: dict[str, TaskState] = {
    "starting": "queued",
    "processing": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "failed",  # by someone on the website: we never cancel
    "aborted": "failed",  # a `Cancel-After` deadline passed before it started (unbilled)
}
# The models whose schema has `duration` and `resolution`; the 01 family makes 6 s at 720P
# and has neither field.
_SIZED: frozenset[Model] = frozenset({"hailuo-02", "hailuo-2.3"})
# UNVERIFIED: the insufficient-credit answer ("commonly 402"); its words decide elsewhere.
_CREDIT_WORDS = re.compile(r"insufficient credit|billing|payment", re.IGNORECASE)


class ReplicateAdapter(Adapter):
    """Replicate: the model in the path, `id` in, `output` out."""

    PROVIDERS = frozenset({"replicate"})

    def submit_request(self, request: VideoRequest, images: SubmitImages) -> HttpRequest:
        self._refuse_unsold(request, images)
        fields: dict[str, object] = {
            "prompt": request.prompt,
            **image_fields(images, "first_frame_image", "last_frame_image"),
        }
        if images.subject:
            fields["subject_reference"] = images.subject  # video-01: one image, as a string
        if request.model in _SIZED:
            fields["duration"] = request.duration
            # Always sent: Hailuo-02 defaults to 1080p, the pro tier and its price.
            fields["resolution"] = request.resolution.lower()
        fields["prompt_optimizer"] = request.prompt_optimizer
        model = self.capabilities.offers[request.model].wire
        return self._post(f"/v1/models/{model}/predictions", {"input": fields})

    def parse_submit(self, response: HttpResponse) -> str:
        prediction_id = as_text(self._ok_json(response).get("id"))
        if not prediction_id:
            raise self._error(response, "create answer has no prediction id", "transient")
        return prediction_id

    def poll_request(self, task_id: str) -> HttpRequest:
        return self._get(f"/v1/predictions/{quote(task_id, safe='')}")

    def parse_poll(self, response: HttpResponse) -> TaskStatus:
        body = self._ok_json(response)
        raw = as_text(body.get("status"))
        state = state_for(_STATE_BY_STATUS, raw)
        if state is None:
            return self._still_running(raw)
        if state == "failed":
            error = describe(body.get("error"))
            return self._failed(raw, failure_from_text(error), error or f"prediction {raw}")
        if state == "succeeded":
            return self._succeeded(raw, body)
        return TaskStatus(state, raw)

    def _succeeded(self, raw: str, body: dict[str, object]) -> TaskStatus:
        if body.get("data_removed") is True:
            message = "the video was deleted: Replicate keeps an API prediction's output 1 hour"
            return self._failed(raw, "expired", message)
        # The schemas say one URI string; a list of them is read too, as the SDK does.
        output = body.get("output")
        url = as_text(output) or as_text(dig(output, 0))
        if not url:
            return self._still_running(raw, f"{raw} without an output URL")
        ttl = self.capabilities.url_ttl
        completed = _epoch(as_text(body.get("completed_at")))
        return TaskStatus(
            "succeeded",
            raw,
            progress=1.0,
            video_url=url,
            url_ttl=ttl,
            url_expires_at=completed + ttl if completed is not None and ttl else None,
        )

    def classify(self, response: HttpResponse) -> ProviderError:
        """Read an RFC 7807 problem (`title`, `detail`, 422's `invalid_fields`) and its status."""
        body = loose_json(response)
        detail = describe(body.get("detail")) or "; ".join(
            describe(dig(field, "description")) for field in as_list(body.get("invalid_fields"))
        )
        title = as_text(body.get("title"))
        message = ": ".join(part for part in (title, detail) if part) or snippet(response)
        kind: ErrorKind | None = None
        if response.status == 402 or (
            response.status in (400, 403) and _CREDIT_WORDS.search(message)
        ):
            kind = "quota"
        return self._error(response, f"HTTP {response.status}: {message}", kind)


def _epoch(stamp: str) -> float | None:
    """Unix time of an ISO 8601 stamp with a zone (`2025-07-30T01:38:07.143Z`), else None."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None
