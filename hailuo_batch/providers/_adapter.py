"""What every adapter shares: construction, URLs, typed reading of decoded JSON. No I/O.

Each sibling module speaks one wire protocol; this one holds only what all of them would
otherwise repeat: the `Adapter` base class (constructor, request building, key-safe
errors), small readers that turn `object` values of a decoded body into typed values,
and the `TaskFinder` role of adapters that can list recent tasks. Times are in seconds.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping
from typing import ClassVar, Protocol, runtime_checkable
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson

from hailuo_batch.core.capabilities import (
    CAPABILITIES_BY_PROVIDER,
    MODEL_RULES,
    Capabilities,
    Offer,
    unsold_options,
)
from hailuo_batch.core.http import (
    HttpRequest,
    HttpResponse,
    ListingMatch,
    SubmitImages,
    TaskState,
    TaskStatus,
)
from hailuo_batch.core.jobs import ErrorKind, FailureKind, ReferenceKind, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers.base import bearer_headers, http_error, read_json

MAX_MESSAGE_CHARS = 500
_REDACTED = "[redacted]"
# Failure texts that mean moderation refused the input or output: resellers pass MiniMax's
# 1026/1027 on as free text ("input new_sensitive", "output video sensitive").
_CONTENT_POLICY = re.compile(r"sensitive|nsfw|moderat|content.?polic", re.IGNORECASE)


class Adapter(ABC):
    """Construction, request building and key-safe errors for one provider's protocol.

    Subclasses list the provider names they serve in `PROVIDERS` and implement the
    `Provider` protocol's wire methods. The API key goes only into request headers; the
    adapter keeps it just to scrub it from error messages.
    """

    PROVIDERS: ClassVar[frozenset[str]]
    name: str
    capabilities: Capabilities

    def __init__(self, name: str, api_key: str, base_url: str | None = None) -> None:
        if name not in self.PROVIDERS:
            served = ", ".join(sorted(self.PROVIDERS))
            raise ValueError(f"{type(self).__name__} speaks for {served}, not {name!r}")
        self.name = name
        self.capabilities = CAPABILITIES_BY_PROVIDER[name]
        self._origin = (base_url or self.capabilities.base_url).rstrip("/")
        self._headers = bearer_headers(api_key)
        self._api_key = api_key

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, origin={self._origin!r})"

    @abstractmethod
    def submit_request(self, request: VideoRequest, images: SubmitImages) -> HttpRequest: ...

    @abstractmethod
    def parse_submit(self, response: HttpResponse) -> str: ...

    @abstractmethod
    def poll_request(self, task_id: str) -> HttpRequest: ...

    @abstractmethod
    def parse_poll(self, response: HttpResponse) -> TaskStatus: ...

    @abstractmethod
    def classify(self, response: HttpResponse) -> ProviderError: ...

    def retrieve_request(self, status: TaskStatus) -> HttpRequest | None:
        """None: the poll answer already carries the URL (MiniMax overrides this)."""
        return None

    def parse_retrieve(self, response: HttpResponse) -> TaskStatus:
        """Never called: `retrieve_request` returns None for this protocol."""
        raise RuntimeError(f"{self.name} has no retrieve step; retrieve_request returns None")

    def _get(self, path: str, **query: str) -> HttpRequest:
        url = self._origin + path + (f"?{urlencode(query)}" if query else "")
        return HttpRequest("GET", url, headers=dict(self._headers))

    def _post(self, path: str, body: Mapping[str, object]) -> HttpRequest:
        return HttpRequest("POST", self._origin + path, headers=dict(self._headers), json=body)

    def _refuse_unsold(self, request: VideoRequest, images: SubmitImages) -> Offer:
        """What this provider sells of the request's model; raise rather than send what
        its wire has no field for.

        `validate` checks the same table first; this guard stops a request that slipped
        past it from being silently changed (an end frame, a subject or an option dropped,
        another model's path).
        """
        offer = self.capabilities.offers.get(request.model)
        if offer is None:
            raise ProviderError(
                "invalid_input", self.name, f"{self.name} does not sell {request.model}"
            )
        rules = MODEL_RULES[request.model]
        sold = (
            ("last frame", images.last, offer.end_frame and bool(rules.end_frame_resolutions)),
            ("subject reference", images.subject, offer.subject and rules.subject),
            ("references", images.references, offer.references and rules.references),
        )
        unsold = [what for what, sent, sells in sold if sent and not sells]
        unsold += [f"`{option}:`" for option in unsold_options(offer, request)]
        if unsold:
            problem = f"{self.name} takes no {', '.join(unsold)} for {request.model}"
            raise ProviderError("invalid_input", self.name, problem)
        return offer

    def _ok_json(self, response: HttpResponse) -> dict[str, object]:
        """The body of a 2xx answer as a JSON object; anything else raises classified."""
        if not 200 <= response.status < 300:
            raise self.classify(response)
        return read_json(self.name, response)

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, _REDACTED) if self._api_key else text

    def _error(
        self, response: HttpResponse, message: str, kind: ErrorKind | None = None
    ) -> ProviderError:
        """`http_error` with the key scrubbed, in case a server echoes the request back."""
        return http_error(self.name, response, self._redact(message), kind)

    def _failed(self, raw: str, failure: FailureKind, message: str) -> TaskStatus:
        text = self._redact(message)[:MAX_MESSAGE_CHARS]
        return TaskStatus("failed", raw, failure=failure, message=text)

    def _still_running(self, raw: str, why: str | None = None) -> TaskStatus:
        """An answer we cannot read as progress or an outcome: keep polling, never succeed."""
        why = why or f"unknown status {raw!r}"
        return TaskStatus("running", raw, warning=f"{self.name}: {why}; still polling")


@runtime_checkable
class TaskFinder(Protocol):
    """An adapter that can list recent tasks, to find one whose submit reply was lost."""

    def list_request(self, request_body: Mapping[str, object]) -> HttpRequest:
        """The list that would show a task made from `request_body` (lists are per model)."""
        ...

    def find_task(
        self,
        response: HttpResponse,
        request_body: Mapping[str, object],
        exclude: Collection[str] = (),
    ) -> ListingMatch:
        """Whether the listed tasks show one made from `request_body` (ids in `exclude`
        belong to other jobs); `Unsure` wherever the listing cannot prove either way."""
        ...


def state_for(table: Mapping[str, TaskState], raw: str) -> TaskState | None:
    """A provider status string's state; providers differ in case, so compare folded."""
    return table.get(raw.strip().casefold())


def dig(value: object, *path: str | int) -> object:
    """The value at `path` through nested objects and arrays, None where a step is missing."""
    for step in path:
        if isinstance(step, str) and isinstance(value, dict):
            value = value.get(step)
        elif isinstance(step, int) and isinstance(value, list) and 0 <= step < len(value):
            value = value[step]
        else:
            return None
    return value


def as_object(value: object) -> dict[str, object]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def as_text(value: object) -> str:
    return value if isinstance(value, str) else ""


def as_id(value: object) -> str:
    """A task or file id: a non-empty string, or an integer (MiniMax sends both)."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    return as_text(value)


def as_number(value: object) -> float | None:
    """A JSON number, or a string holding one (Novita sends `"3600"` and `3600`)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def describe(value: object) -> str:
    """Text for a message: strings as they are, other JSON compactly serialised."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def loose_json(response: HttpResponse) -> dict[str, object]:
    """An error body's JSON object, or {} when it is text, HTML or broken."""
    try:
        return as_object(orjson.loads(response.body))
    except orjson.JSONDecodeError:
        return {}


def snippet(response: HttpResponse, limit: int = 300) -> str:
    """The start of a body as one line of text, for messages about unreadable answers."""
    text = " ".join(response.body.decode("utf-8", errors="replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failure_from_text(message: str) -> FailureKind:
    return "content_policy" if _CONTENT_POLICY.search(message) else "provider_error"


def query_value(url: str, name: str) -> str | None:
    """The last value of query parameter `name` in `url` (decoded), None when absent."""
    values = parse_qs(urlsplit(url).query).get(name)
    return values[-1] if values else None


def image_fields(images: SubmitImages, first: str, last: str | None = None) -> dict[str, str]:
    """The frames under the provider's field names; absent frames are left out, not null."""
    pairs = ((first, images.first), (last, images.last))
    return {key: value for key, value in pairs if key is not None and value}


def reference_fields(
    images: SubmitImages, names: Mapping[ReferenceKind, str]
) -> dict[str, list[str]]:
    """H3's reference media as flat lists under the provider's field name for each kind, in
    the manifest's order; kinds without media are left out, not sent empty."""
    fields: dict[str, list[str]] = {}
    for kind, media in images.references:
        fields.setdefault(names[kind], []).append(media)
    return fields


def same_request(
    listed: Mapping[str, object], sent: Mapping[str, object], required: Iterable[str]
) -> bool:
    """Whether a listed task echoes what we sent.

    Every `required` field must be echoed and equal; any other field we sent must be equal
    where the listing echoes it (list entries carry fewer fields than submits).
    """
    if any(key not in listed or listed[key] != sent.get(key) for key in required):
        return False
    return all(listed[key] == value for key, value in sent.items() if key in listed)
