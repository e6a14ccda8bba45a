"""The provider adapter role, and the small helpers every adapter's wire reading shares.

Adapters are sans-I/O (STYLE.md habit 7): they turn a neutral request into an
`HttpRequest` and an `HttpResponse` into a task id, a `TaskStatus` or a classified
`ProviderError` (values in `core.http`); the engine does the talking. Times are in seconds.
"""

from __future__ import annotations

from typing import Protocol

import orjson

from hailuo_batch.core.capabilities import Capabilities
from hailuo_batch.core.http import (
    HttpRequest,
    HttpResponse,
    SubmitImages,
    TaskStatus,
    parse_retry_after,
)
from hailuo_batch.core.jobs import ErrorKind, VideoRequest
from hailuo_batch.errors import ProviderError


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
