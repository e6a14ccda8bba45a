"""fal.ai's queue for MiniMax's video models: requests and readings. No I/O.

docs/providers/fal.md: submit `POST /<model id>` (the id's path picks the tier and the mode),
read `GET /fal-ai/minimax/requests/<id>/status`, then fetch the result at
`GET /fal-ai/minimax/requests/<id>`: three steps. The statuses are only IN_QUEUE,
IN_PROGRESS and COMPLETED, and a failed request reaches COMPLETED too: its result GET answers
the error, so COMPLETED is `finalizing` and the result decides. The queue takes any JSON
object; the runner checks the input, so a refused parameter comes back from the result GET
as a 422, after the request was paid for (fal's FAQ; TanStack/ai#396 saw it live). What an
endpoint cannot make is therefore refused here, unsent. Media on fal's CDN live at least
7 days. Times are in seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit

from hailuo_batch.core.http import HttpRequest, HttpResponse, SubmitImages, TaskState, TaskStatus
from hailuo_batch.core.jobs import ErrorKind, FailureKind, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers._adapter import (
    Adapter,
    as_list,
    as_object,
    as_text,
    describe,
    dig,
    failure_from_text,
    image_fields,
    loose_json,
    snippet,
    state_for,
)
from hailuo_batch.providers.base import read_json

APP = "fal-ai/minimax"
"""The owner and app of every endpoint sold here. Status and result URLs name only these
two and the request id (fal-client's `from_request_id` builds them so): the task id is the
bare request id, and the URLs are derived from it."""

_STATE_BY_STATUS: dict[str, TaskState] = {
    "in_queue": "queued",
    "in_progress": "running",
    "completed": "finalizing",  # success or failure: the result GET says which
}
FIXED_DURATION = 6  # what endpoints without a `duration` field make
_OPTIONAL = re.compile(r"\[(.*?)\]")  # `video-01[/image-to-video]`: present with a first frame
_BALANCE = re.compile(r"balance|top.?up|credit|billing|payment", re.IGNORECASE)
# An error type names what ended the request (runner_*, request_timeout ...), except this
# one, the queue's own fault: asking again may work (request-errors page).
_QUEUE_FAULT = "internal_error"

ImageField = Literal["image_url", "subject_reference_image_url"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One fal endpoint, as its input schema has it (fal-js endpoint types)."""

    path: str  # the model id
    resolutions: tuple[str, ...]  # what it makes; more than one: it has a `resolution` field
    duration: bool  # it has a `duration` field ("6" or "10"); else it makes 6 s
    image: ImageField | None  # its required image field, if any


def endpoint_for(wire: str, request: VideoRequest, first_frame: bool) -> Endpoint:
    """The endpoint an offer's wire template names for this request.

    `{tier}` is `pro` for 1080P and `standard` below; `{mode}` and a bracketed segment follow
    the first frame. The 01 family has no tier: 720P, 6 s, no duration field.
    """
    tier = "pro" if request.resolution == "1080P" else "standard"
    mode = "image-to-video" if first_frame else "text-to-video"
    path = _OPTIONAL.sub(lambda m: m[1] if first_frame else "", wire).format(tier=tier, mode=mode)
    image: ImageField | None = None
    if path.endswith("/image-to-video"):
        image = "image_url"
    elif path.endswith("-subject-reference"):
        image = "subject_reference_image_url"
    if "{tier}" not in wire:
        return Endpoint(path, ("720P",), False, image)
    if tier == "pro":
        return Endpoint(path, ("1080P",), False, image)
    if request.model == "hailuo-02" and image:
        return Endpoint(path, ("512P", "768P"), True, image)
    return Endpoint(path, ("768P",), True, image)


class FalAdapter(Adapter):
    """fal.ai's queue: `request_id` in, `video.url` from the result GET."""

    PROVIDERS = frozenset({"fal"})

    def __init__(self, name: str, api_key: str, base_url: str | None = None) -> None:
        super().__init__(name, api_key, base_url)
        self._headers = {"Authorization": f"Key {api_key}", "Content-Type": "application/json"}

    def submit_request(self, request: VideoRequest, images: SubmitImages) -> HttpRequest:
        self._refuse_unsold(request, images)
        wire = self.capabilities.offers[request.model].wire
        endpoint = endpoint_for(wire, request, images.first is not None)
        problem = _unsendable(endpoint, request, images)
        if problem:
            raise ProviderError("invalid_input", self.name, f"{endpoint.path} {problem}")
        body: dict[str, object] = {"prompt": request.prompt}
        body.update(image_fields(images, "image_url", "end_image_url"))
        if images.subject:
            body["subject_reference_image_url"] = images.subject
        if endpoint.duration:
            body["duration"] = str(request.duration)  # a string enum: "6" or "10"
        if len(endpoint.resolutions) > 1:
            body["resolution"] = request.resolution
        body["prompt_optimizer"] = request.prompt_optimizer
        return self._post(f"/{endpoint.path}", body)

    def parse_submit(self, response: HttpResponse) -> str:
        request_id = as_text(self._ok_json(response).get("request_id"))
        if not request_id:
            raise self._error(response, "submit answer has no request_id", "transient")
        return request_id

    def poll_request(self, task_id: str) -> HttpRequest:
        return self._get(f"/{APP}/requests/{quote(task_id, safe='')}/status")

    def parse_poll(self, response: HttpResponse) -> TaskStatus:
        body = self._ok_json(response)
        raw = as_text(body.get("status"))
        state = state_for(_STATE_BY_STATUS, raw)
        if state is None:
            return self._still_running(raw)
        if state != "finalizing":
            return TaskStatus(state, raw)
        # `retrieve_request` gets only this status, so it carries the request id, read from
        # the `response_url` every status answer shows (queue docs' examples).
        request_id = _request_id(as_text(body.get("response_url")))
        if not request_id:
            return self._still_running(raw, f"{raw} without a response_url")
        return TaskStatus("finalizing", raw, progress=1.0, file_id=request_id)

    def retrieve_request(self, status: TaskStatus) -> HttpRequest | None:
        """The result GET for a COMPLETED request: the video, or why the request failed."""
        if status.state != "finalizing" or not status.file_id:
            return None
        return self._get(f"/{APP}/requests/{quote(status.file_id, safe='')}")

    def parse_retrieve(self, response: HttpResponse) -> TaskStatus:
        """A 2xx result is the output; an error about the request is a failed task; any
        other error (key, rate limit, the queue's own fault) raises, so the engine asks
        again."""
        if 200 <= response.status < 300:
            body = read_json(self.name, response)
            url = as_text(dig(body, "video", "url"))
            if not url:
                message = f"result has no video.url: {snippet(response)}"
                return self._failed("COMPLETED", "provider_error", message)
            return TaskStatus(
                "succeeded",
                "COMPLETED",
                progress=1.0,
                video_url=url,
                url_ttl=self.capabilities.url_ttl,  # "at least 7 days" (FAQ)
            )
        error, error_type = self._read_error(response)
        failure = _request_failure(response.status, error.kind, error_type)
        if failure is None:
            raise error
        return self._failed("COMPLETED", failure, error.message)

    def classify(self, response: HttpResponse) -> ProviderError:
        return self._read_error(response)[0]

    def _read_error(self, response: HttpResponse) -> tuple[ProviderError, str]:
        """Read fal's `{"detail": ...}` (a text, or a list of `{loc, msg, type}`) with the HTTP
        status; also the `error_type` it names (in the body or `X-Fal-Error-Type`)."""
        body = loose_json(response)
        detail = _detail_text(body.get("detail")) or snippet(response)
        error_type = as_text(body.get("error_type")) or response.headers.get("x-fal-error-type", "")
        text = f"HTTP {response.status}: {detail}" + (f" ({error_type})" if error_type else "")
        kind: ErrorKind | None = None
        # A locked account answers 403 "User is locked. Reason: Exhausted balance. Top up
        # ..." (fal-ai/fal#1112, #1147); "Reason: Admin lock" stays `auth`. 402 UNVERIFIED.
        if response.status == 402 or (response.status == 403 and _BALANCE.search(detail)):
            kind = "quota"
        elif response.status == 422 and failure_from_text(detail) == "content_policy":
            kind = "content_policy"
        return self._error(response, text, kind), error_type


def _unsendable(endpoint: Endpoint, request: VideoRequest, images: SubmitImages) -> str:
    """Why the endpoint would change or refuse the request ("" when it takes it as asked).

    An endpoint makes what it makes: a length or size it has no field for would be dropped,
    and an image it has no field for ignored; a missing image it requires, or a value it
    does not list, its runner refuses after the request is paid for.
    """
    if not endpoint.duration and request.duration != FIXED_DURATION:
        return f"makes {FIXED_DURATION} s videos only (asked {request.duration} s)"
    if request.resolution not in endpoint.resolutions:
        return f"makes {'/'.join(endpoint.resolutions)} only (asked {request.resolution})"
    given = {"image_url": images.first, "subject_reference_image_url": images.subject}
    for field, value in given.items():
        if value and endpoint.image != field:
            return f"has no `{field}`"
    if endpoint.image and not given[endpoint.image]:
        return f"needs `{endpoint.image}`"
    # Models with a last frame have it on their image-to-video endpoints (the table's
    # end-frame check has run); a text-to-video endpoint would drop it.
    if images.last and endpoint.image != "image_url":
        return "has no `end_image_url`"
    return ""


def _request_id(response_url: str) -> str:
    """The id at the end of `.../requests/<id>`, or "" when the URL is not one."""
    head, _, request_id = urlsplit(response_url).path.rstrip("/").rpartition("/requests/")
    return request_id if head and request_id and "/" not in request_id else ""


def _request_failure(status: int, kind: ErrorKind, error_type: str) -> FailureKind | None:
    """What a result GET's error says about the request, None when it is about the GET.

    A 422 is the runner refusing the input (model errors page); an `error_type` other than
    the queue's own fault names what ended the request after fal's own retries (request
    errors page: timeouts, runner failures, a cancellation).
    """
    if status == 422:
        return "content_policy" if kind == "content_policy" else "invalid_input"
    return "provider_error" if error_type and error_type != _QUEUE_FAULT else None


def _detail_text(detail: object) -> str:
    """`detail` as one line: model errors list `{loc: ["body", field], msg, type}`."""
    if not isinstance(detail, list):
        return describe(detail)
    parts = []
    for item in detail:
        entry = as_object(item)
        loc = [str(step) for step in as_list(entry.get("loc")) if step != "body"]
        message = as_text(entry.get("msg")) or describe(item)
        kind = as_text(entry.get("type"))
        where = f"{'.'.join(loc)}: " if loc else ""
        parts.append(f"{where}{message}" + (f" [{kind}]" if kind else ""))
    return "; ".join(parts)
