"""GMI Cloud's request-queue protocol: requests and readings for Hailuo-02. No I/O.

docs/providers/gmi.md (and the gmicloud SDK): submit `{"model", "payload"}` to the queue, read
status and outcome from one detail endpoint, list requests per model to reconcile a
submit whose reply was lost. GMI documents no URL lifetime. Times are in seconds.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from urllib.parse import quote

from hailuo_batch.core.http import (
    Absent,
    Found,
    HttpRequest,
    HttpResponse,
    ListingMatch,
    SubmitImages,
    TaskState,
    TaskStatus,
    Unsure,
)
from hailuo_batch.core.jobs import ErrorKind, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers._adapter import (
    Adapter,
    as_list,
    as_number,
    as_object,
    as_text,
    describe,
    dig,
    failure_from_text,
    image_fields,
    loose_json,
    same_request,
    snippet,
    state_for,
)

# UNVERIFIED: GMI confirms `Minimax-Hailuo-2.3(-Fast)`; the 02 id follows the same naming.
MODEL_ID = "Minimax-Hailuo-02"
_REQUESTS = "/api/v1/ie/requestqueue/apikey/requests"

_STATE_BY_STATUS: dict[str, TaskState] = {
    "created": "queued",  # gmicloud SDK: before `queued`
    "queued": "queued",
    "dispatched": "queued",  # observed between queued and processing
    "processing": "running",
    "success": "succeeded",
    "failed": "failed",
    "cancelled": "failed",
    "canceled": "failed",
}
# GMI's error body is UNVERIFIED (`{"error": "..."}` per the SDK, or plain text), so
# balance is recognised from the words of the message when the status alone is ambiguous.
_BALANCE_WORDS = re.compile(r"balance|credit|insufficient|payment|billing", re.IGNORECASE)


class GmiAdapter(Adapter):
    """GMI Cloud's queue: `request_id` in, `outcome.media_urls[0].url` out."""

    PROVIDERS = frozenset({"gmi"})

    def submit_request(self, request: VideoRequest, images: SubmitImages) -> HttpRequest:
        self._refuse_unsold(request, images)
        payload = {
            "prompt": request.prompt,
            **image_fields(images, "first_frame_image"),
            "duration": request.duration,
            "resolution": request.resolution,
            "prompt_optimizer": request.prompt_optimizer,
            "fast_pretreatment": request.fast_pretreatment,
        }
        return self._post(_REQUESTS, {"model": MODEL_ID, "payload": payload})

    def parse_submit(self, response: HttpResponse) -> str:
        request_id = as_text(self._ok_json(response).get("request_id"))
        if not request_id:
            raise self._error(response, "submit answer has no request_id", "transient")
        return request_id

    def poll_request(self, task_id: str) -> HttpRequest:
        return self._get(f"{_REQUESTS}/{quote(task_id, safe='')}")

    def parse_poll(self, response: HttpResponse) -> TaskStatus:
        body = self._ok_json(response)
        raw = as_text(body.get("status"))
        state = state_for(_STATE_BY_STATUS, raw)
        if state is None:
            return self._still_running(raw)
        if state == "failed":
            # Failure text is top-level `error`; some clients also read `outcome.error`.
            error = describe(body.get("error")) or describe(dig(body, "outcome", "error"))
            message = error or f"request ended {raw}"
            return self._failed(raw, failure_from_text(error), message)
        if state == "succeeded":
            url = as_text(dig(body, "outcome", "media_urls", 0, "url")) or as_text(
                dig(body, "outcome", "video_url")  # fallback some clients read
            )
            if not url:
                return self._still_running(raw, f"{raw} without a media URL")
            return TaskStatus(
                "succeeded", raw, progress=1.0, video_url=url, url_ttl=self.capabilities.url_ttl
            )
        return TaskStatus(state, raw)

    def classify(self, response: HttpResponse) -> ProviderError:
        """Read GMI's `{"error": "..."}` (or a text body) with its HTTP status."""
        message = describe(loose_json(response).get("error")) or snippet(response)
        kind: ErrorKind | None = None
        if response.status == 402 or (response.status == 403 and _BALANCE_WORDS.search(message)):
            kind = "quota"
        return self._error(response, f"HTTP {response.status}: {message}", kind)

    def list_request(self) -> HttpRequest:
        """Recent requests for our model (`{"requests": [...], "total": N}`)."""
        return self._get(_REQUESTS, model_id=MODEL_ID)

    def find_task(
        self,
        response: HttpResponse,
        request_body: Mapping[str, object],
        exclude: Collection[str] = (),
    ) -> ListingMatch:
        """The listed request whose echoed payload matches the one we sent.

        The gmicloud SDK types a listed request's `payload` as optional: an entry without
        it cannot be matched, so a miss among such entries proves nothing (`Unsure`); so
        does a page that is not the whole list (`total` above the entries shown).
        `request_body` is the submit body (`{"model", "payload"}`); `exclude` holds ids
        other jobs already own, since two samples of one request send equal payloads.
        """
        body = self._ok_json(response)
        entries = as_list(body.get("requests"))
        sent = as_object(request_body.get("payload"))
        blind = 0
        for entry in entries:
            listed = as_object(entry)
            request_id = as_text(listed.get("request_id"))
            if not request_id or request_id in exclude:
                continue
            payload = listed.get("payload")
            if not isinstance(payload, dict) or not payload:
                blind += 1
                continue
            if same_request(as_object(payload), sent, ("prompt",)):
                return Found(request_id)
        if blind:
            return Unsure(f"{blind} listed request(s) carry no payload to match on")
        total = as_number(body.get("total"))
        if total is not None and total > len(entries):
            return Unsure(f"the list shows {len(entries)} of {int(total)} requests")
        return Absent()
