"""GMI Cloud's request-queue protocol: requests and readings for the Hailuo models and H3. No I/O.

docs/providers/gmi.md (and the gmicloud SDK): submit `{"model", "payload"}` to the queue (the
model id is the offer's wire id in the capability table), read status and outcome from
one detail endpoint, list requests per model to reconcile a submit whose reply was lost,
and read a model's list price from its detail. GMI documents no URL lifetime. Times are in
seconds.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
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
from hailuo_batch.core.jobs import ErrorKind, Model, ReferenceKind, VideoRequest
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
    reference_fields,
    same_request,
    snippet,
    state_for,
)

_QUEUE = "/api/v1/ie/requestqueue/apikey"
_REQUESTS = f"{_QUEUE}/requests"
# H3's flat payload is M confidence (third-party clients citing GMI's H3 quickstart).
_REFERENCE_FIELDS: dict[ReferenceKind, str] = {
    "image": "reference_images",
    "video": "reference_videos",
    "audio": "reference_audios",
}

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


@dataclass(frozen=True, slots=True)
class PriceInfo:
    """A GMI model's list price as its detail states it, units unknown (see `parse_price`)."""

    price: float | None
    pricing_type: str
    unit: str


class GmiAdapter(Adapter):
    """GMI Cloud's queue: `request_id` in, `outcome.media_urls[0].url` out."""

    PROVIDERS = frozenset({"gmi"})

    def submit_request(self, request: VideoRequest, images: SubmitImages) -> HttpRequest:
        wire = self._refuse_unsold(request, images).wire
        payload: dict[str, object] = {
            "prompt": request.prompt,
            **image_fields(images, "first_frame_image", "last_frame_image"),
            "duration": request.duration,
            "resolution": request.resolution,
        }
        if request.model == "h3":
            # No optimizer: H3 has none. `ratio` left out is the model's default.
            payload.update(reference_fields(images, _REFERENCE_FIELDS))
            if request.ratio is not None:
                payload["ratio"] = request.ratio
        else:
            payload["prompt_optimizer"] = request.prompt_optimizer
            payload["fast_pretreatment"] = request.fast_pretreatment
        return self._post(_REQUESTS, {"model": wire, "payload": payload})

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

    def list_request(self, request_body: Mapping[str, object]) -> HttpRequest:
        """Recent requests for the submit's model (`{"requests": [...], "total": N}`)."""
        return self._get(_REQUESTS, model_id=as_text(request_body.get("model")))

    def model_request(self, model: Model) -> HttpRequest:
        """The detail of the model's GMI id, which carries its list price."""
        wire = self.capabilities.offers[model].wire
        return self._get(f"{_QUEUE}/models/{quote(wire, safe='')}")

    def parse_price(self, response: HttpResponse) -> PriceInfo | None:
        """The model detail's `price_info`, as GMI gives it; None when it has none.

        The gmicloud SDK types it `{price: int, pricing_type: str, unit: str}`; what unit
        `price` counts in is UNVERIFIED (cents? micro-dollars?), so it is never turned into
        dollars here: a caller logs it, or compares it with a known price.
        """
        info = self._ok_json(response).get("price_info")
        if not isinstance(info, dict):
            return None
        return PriceInfo(
            price=as_number(info.get("price")),
            pricing_type=as_text(info.get("pricing_type")),
            unit=as_text(info.get("unit")),
        )

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
