"""The only code that touches sockets: `AiohttpTransport`, and `MockTransport` for tests.

A transport sends an `HttpRequest` and returns an `HttpResponse`, or raises
`TransportError`, which says whether the request may have reached the server
(`sent`): the difference between "retry freely" and "this submit may have been paid".
Downloads stream to a file in 1 MiB writes with a running sha256, in constant memory.
Times are in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import aiofiles
import aiohttp
import orjson

from hailuo_batch.core.http import HttpRequest, HttpResponse
from hailuo_batch.errors import TransportError

if TYPE_CHECKING:
    from _hashlib import HASH as Hash
    from types import TracebackType

    from aiofiles.threadpool.binary import AsyncBufferedIOBase

CHUNK = 1 << 20
"""Bytes written at once: a thread hop per MiB, not per network read (at most two MiB held)."""


@dataclass(frozen=True, slots=True)
class Downloaded:
    """A response body streamed to disk: where, how big, its digest; or the HTTP failure."""

    status: int
    bytes: int = 0
    sha256: str = ""


class Transport(Protocol):
    async def send(self, request: HttpRequest) -> HttpResponse: ...

    async def download(self, url: str, dest: Path) -> Downloaded:
        """Stream `url` into `dest` (created or truncated); a non-200 writes nothing."""
        ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """One aiohttp session for the whole run: pooled connections, explicit timeouts."""

    def __init__(self, *, timeout: float = 60.0, download_timeout: float = 900.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=10.0)
        self._download_timeout = aiohttp.ClientTimeout(total=download_timeout, sock_read=60.0)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=256, limit_per_host=128)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, json_serialize=_dumps
            )
        return self._session

    async def send(self, request: HttpRequest) -> HttpResponse:
        _check_headers(request)
        body = orjson.dumps(request.json) if request.json is not None else None
        with _wire_errors(timeout="no answer in time", lost="connection lost"):
            async with self._client().request(
                request.method, request.url, headers=dict(request.headers), data=body
            ) as response:
                payload = await response.read()
                headers = {k.lower(): v for k, v in response.headers.items()}
                return HttpResponse(response.status, payload, headers, request.url)

    async def download(self, url: str, dest: Path) -> Downloaded:
        digest = hashlib.sha256()
        size = 0
        with _wire_errors(timeout="download timed out", lost="download interrupted"):
            async with self._client().get(url, timeout=self._download_timeout) as response:
                if response.status != 200:
                    await response.read()
                    return Downloaded(response.status)
                async with aiofiles.open(dest, "wb") as handle:
                    buffer = bytearray()
                    async for chunk in response.content.iter_any():
                        buffer += chunk
                        if len(buffer) >= CHUNK:
                            size += await _flush(handle, digest, buffer)
                            buffer = bytearray()
                    size += await _flush(handle, digest, buffer)
                    await handle.flush()
        return Downloaded(200, size, digest.hexdigest())

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> AiohttpTransport:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


@contextlib.contextmanager
def _wire_errors(*, timeout: str, lost: str) -> Iterator[None]:
    """aiohttp's failures as `TransportError`: only a failed connect was surely not sent."""
    try:
        yield
    except (aiohttp.ClientConnectorError, aiohttp.InvalidURL) as exc:
        raise TransportError(f"cannot connect: {_reason(exc)}", sent=False) from None
    except asyncio.TimeoutError:
        raise TransportError(timeout, sent=True) from None
    except aiohttp.ClientError as exc:
        raise TransportError(f"{lost}: {_reason(exc)}", sent=True) from None


async def _flush(handle: AsyncBufferedIOBase, digest: Hash, buffer: bytearray) -> int:
    """Hash and write what the buffer holds (not copied: the caller starts a new one)."""
    if buffer:
        digest.update(buffer)  # hashlib lets go of the GIL for large buffers
        await handle.write(buffer)
    return len(buffer)


def _check_headers(request: HttpRequest) -> None:
    """A header value with a line break cannot go out (HTTP forbids it): say so before
    sending, as "never sent", without repeating the value (it may be a key)."""
    for name, value in request.headers.items():
        if "\r" in value or "\n" in value or "\0" in value:
            raise TransportError(f"the {name} header holds a line break: not sent", sent=False)


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def _reason(exc: BaseException) -> str:
    """An error's text without anything that could carry a header (keys live in headers)."""
    return type(exc).__name__ + (
        f": {exc.os_error}" if isinstance(exc, aiohttp.ClientConnectorError) else ""
    )


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


class MockTransport:
    """A transport whose server is a function (httpx's MockTransport): for engine tests.

    Downloads are served by the same handler (a GET of the URL) and written to disk.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sent: list[HttpRequest] = []

    async def send(self, request: HttpRequest) -> HttpResponse:
        """The handler's answer, stamped with the request's URL as a real transport's is."""
        self.sent.append(request)
        response = await self.handler(request)
        return response if response.url else replace(response, url=request.url)

    async def download(self, url: str, dest: Path) -> Downloaded:
        response = await self.send(HttpRequest("GET", url))
        if response.status != 200:
            return Downloaded(response.status)
        dest.write_bytes(response.body)
        return Downloaded(200, len(response.body), hashlib.sha256(response.body).hexdigest())

    async def close(self) -> None:
        return None
