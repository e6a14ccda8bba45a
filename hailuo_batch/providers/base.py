"""The provider adapter role, and the request/response/status values adapters speak in.

Adapters are sans-I/O (STYLE.md habit 7): they turn a neutral request into an
`HttpRequest` and an `HttpResponse` into a task id, a `TaskStatus` or a classified
`ProviderError`; the engine does the talking. Times are in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

import orjson

from hailuo_batch.capabilities import Capabilities
from hailuo_batch.errors import ProviderError
from hailuo_batch.jobs import ErrorKind, FailureKind, VideoRequest
from hailuo_batch.retry import parse_retry_after


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request to send. `headers` may hold a key, so it is kept out of `repr`."""

    method: Literal["GET", "POST", "PUT"]
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    json: Mapping[str, object] | None = None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """One answer as received. Header names are lower-case."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SubmitImages:
    """The first and last frame as the wire carries them: a public URL or a `data:` URI."""

    first: str | None = None
    last: str | None = None


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


class Provider(Protocol):
    """What the engine needs from a provider adapter. Every method is pure."""

    name: str
    capabilities: Capabilities

    def submit_request(self, request: VideoRequest, images: SubmitImages) -> HttpRequest: ...

    def parse_submit(self, response: HttpResponse) -> str:
        """The task id, or raise the classified `ProviderError`."""
        ...

    def poll_request(self, task_id: str) -> HttpRequest: ...

    def parse_poll(self, response: HttpResponse) -> TaskStatus:
        """The task's status, or raise the classified `ProviderError`."""
        ...

    def retrieve_request(self, status: TaskStatus) -> HttpRequest | None:
        """The extra hop from a `finalizing` status to a URL; None where there is none."""
        ...

    def parse_retrieve(self, response: HttpResponse) -> TaskStatus: ...

    def classify(self, response: HttpResponse) -> ProviderError:
        """The error an unsuccessful answer means, in the shared taxonomy."""
        ...


def bearer_headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}


def read_json(provider: str, response: HttpResponse) -> dict[str, object]:
    """The body as a JSON object; a malformed body is a transient wire fault."""
    try:
        data = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        raise ProviderError(
            "transient",
            provider,
            f"malformed JSON (HTTP {response.status})",
            status=response.status,
        ) from None
    if not isinstance(data, dict):
        raise ProviderError(
            "transient",
            provider,
            f"expected a JSON object (HTTP {response.status})",
            status=response.status,
        )
    return data


def kind_for_http_status(status: int) -> ErrorKind:
    """The default reading of an HTTP status, for envelopes that say nothing better."""
    if status == 429:
        return "rate_limited"
    if status in (401, 403):
        return "auth"
    if status in (408, 409) or status >= 500:
        return "transient"
    if status in (400, 413, 415, 422):
        return "invalid_input"
    return "provider_error"


def http_error(
    provider: str, response: HttpResponse, message: str, kind: ErrorKind | None = None
) -> ProviderError:
    """A `ProviderError` for an HTTP answer, with Retry-After when the server sent one."""
    return ProviderError(
        kind or kind_for_http_status(response.status),
        provider,
        message[:500],
        status=response.status,
        retry_after=parse_retry_after(response.headers),
    )
