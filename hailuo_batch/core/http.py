"""HTTP and task-status values: what adapters, the transport and polling speak in. No I/O.

An `HttpRequest` is built by an adapter and sent by the transport; an `HttpResponse` comes
back; a `TaskStatus` is an adapter's neutral reading of a provider's answer. Times are in
seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Literal

from hailuo_batch.core.jobs import FailureKind, ReferenceKind


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request to send. `headers` may hold a key, so it is kept out of `repr`."""

    method: Literal["GET", "POST", "PUT"]
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    json: Mapping[str, object] | None = None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """One answer as received. Header names are lower-case.

    `url` is the URL of the request it answers (httpx's `Response.request.url`), set by the
    transport: where one provider speaks two protocols (MiniMax v1 and V2), it says which
    one answered.
    """

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""


@dataclass(frozen=True, slots=True)
class SubmitImages:
    """The request's media as the wire carries them: each a public URL or a `data:` URI.

    `first`/`last` are the frames, `subject` S2V-01's character image, `references` H3's
    reference media as (kind, URL or data URI) pairs, in the manifest's order.
    """

    first: str | None = None
    last: str | None = None
    subject: str | None = None
    references: tuple[tuple[ReferenceKind, str], ...] = ()


TaskState = Literal["queued", "running", "finalizing", "succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class TaskStatus:
    """A provider's answer about one task, in neutral terms.

    `finalizing`: the provider is done but the video URL needs one more call
    (`retrieve_request`), e.g. MiniMax's `files/retrieve`. `succeeded` carries the URL
    and how long it lives: `url_expires_at` (epoch seconds) when the URL itself says so,
    else `url_ttl` (seconds from now) when the answer or the docs say so.
    """

    state: TaskState
    raw_status: str
    progress: float | None = None  # 0.0 .. 1.0
    eta: float | None = None
    video_url: str | None = None
    url_ttl: float | None = None
    url_expires_at: float | None = None
    file_id: str | None = None
    failure: FailureKind | None = None
    message: str = ""
    warning: str | None = None  # e.g. a status string we did not know
    charged_usd: float | None = None  # what the provider says the task cost, where it says


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date.

    An HTTP date is measured against the response's own `Date` header, so no clock is
    read here; without one the date form is ignored. Header names must be lower-case.
    """
    if "retry-after-ms" in headers:
        try:
            return float(headers["retry-after-ms"]) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        now = parsedate_to_datetime(headers["date"])
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return max((when - now).total_seconds(), 0.0)


@dataclass(frozen=True, slots=True)
class Found:
    """A provider's task list shows the task a lost submit created."""

    task_id: str


@dataclass(frozen=True, slots=True)
class Absent:
    """The list is documented to hold such tasks, with the fields matched on, and the task
    is not there: once the list has had time to show it, nothing was created."""


@dataclass(frozen=True, slots=True)
class Unsure:
    """The list cannot tell (entries without the fields to match on, more pages): the
    lost submit may have created a task."""

    reason: str


ListingMatch = Found | Absent | Unsure
"""What a provider's task list says about a submit whose reply was lost."""
