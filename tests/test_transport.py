"""Transports: every answer says which URL it came from, as httpx's `Response.url` does."""

from __future__ import annotations

from hailuo_batch.core.http import HttpRequest, HttpResponse
from hailuo_batch.simulator import SimConfig, running_in_process
from hailuo_batch.transport import AiohttpTransport, MockTransport


async def test_mock_transport_stamps_the_request_url() -> None:
    """A handler's answer without a URL gets the request's; one with its own keeps it."""

    async def handler(request: HttpRequest) -> HttpResponse:
        if request.url.endswith("/moved"):
            return HttpResponse(200, b"{}", url="https://elsewhere.test/")
        return HttpResponse(200, b"{}")

    transport = MockTransport(handler)
    plain = await transport.send(HttpRequest("GET", "https://api.test/v2/query/1"))
    moved = await transport.send(HttpRequest("GET", "https://api.test/moved"))
    assert (plain.url, moved.url) == ("https://api.test/v2/query/1", "https://elsewhere.test/")


async def test_aiohttp_transport_stamps_the_request_url() -> None:
    async with running_in_process(SimConfig()) as base, AiohttpTransport() as transport:
        url = f"{base}/_sim/stats"
        response = await transport.send(HttpRequest("GET", url))
    assert (response.status, response.url) == (200, url)
