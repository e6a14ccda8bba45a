"""Fault injection: an aiohttp middleware that spoils a seeded share of requests. Network I/O.

Every fault but `lost-reply` strikes before the request takes effect, so a client that
retries it pays once. Kinds (configured in `SimConfig.faults`):

    rate-limit    429 + Retry-After in the provider's envelope (MiniMax: half the time
                  HTTP 200 with base_resp 1002, as both are seen)
    server-error  500 or 503 in the provider's envelope, or a gateway's HTML 502
    slow          waits `slow_seconds`, then answers normally
    drop          closes the connection without an answer
    bad-json      HTTP 200 whose JSON body is cut off (on a download: half the bytes under
                  the full Content-Length, then the connection closes)
    lost-reply    submits only: the task is created, then the connection closes

Downloads get only slow, drop, server-error and bad-json. `/_sim/*` is never touched.
"""

from __future__ import annotations

import asyncio
import random

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from hailuo_batch.simulator.config import FaultKind, SimConfig
from hailuo_batch.simulator.context import (
    CONTEXT,
    ProviderContext,
    Refusal,
    Role,
    role_of,
    seeded,
    truncating,
    watching_submits,
)
from hailuo_batch.simulator.ledger import Ledger

DOWNLOAD_FAULTS: frozenset[FaultKind] = frozenset({"slow", "drop", "server-error", "bad-json"})
_CUT_JSON = b'{"task_id":"7f3c2a91-5d4e-4b8a-9c61-0e2f3a4b5c6d","status":"TASK_STATUS_PROC'
_BAD_GATEWAY = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>"
)


def applies(kind: FaultKind, role: Role) -> bool:
    if role == "download":
        return kind in DOWNLOAD_FAULTS
    return kind != "lost-reply" or role == "submit"


def fault_middleware(config: SimConfig, ledger: Ledger) -> Middleware:
    """The middleware for one app; its draws come from one seeded stream, in arrival order."""
    rng = seeded(config.seed, "faults")

    @web.middleware
    async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        # The innermost app is the provider's (`config_dict` would stop at this root app).
        ctx = request.match_info.apps[-1].get(CONTEXT)
        role = role_of(request)
        if ctx is None or role is None or config.fault_rate <= 0:
            return await handler(request)
        kinds = [kind for kind in config.faults if applies(kind, role)]
        if not kinds or rng.random() >= config.fault_rate:
            return await handler(request)
        kind = rng.choice(kinds)
        ledger.record_fault(ctx.name, kind)
        if kind == "slow":
            await asyncio.sleep(config.slow_seconds)
            return await handler(request)
        if kind == "lost-reply":
            with watching_submits() as created:
                await handler(request)
            if created:
                ledger.count(ctx.name, "lost_replies")
            return _drop(request)
        if kind == "drop":
            return _drop(request)
        if role == "download":
            if kind == "bad-json":
                with truncating():
                    return await handler(request)
            return web.Response(status=503, text="Service Unavailable")
        return _spoil(kind, request, ctx, config, rng)

    return inject_faults


def _spoil(
    kind: FaultKind,
    request: web.Request,
    ctx: ProviderContext,
    config: SimConfig,
    rng: random.Random,
) -> web.Response:
    if kind == "rate-limit":
        response = ctx.render(Refusal("rate-limit", roll=rng.random()), request)
        response.headers["Retry-After"] = str(config.retry_after)
        return response
    if kind == "server-error":
        status = rng.choice((500, 502, 503))
        if status == 502:
            return web.Response(status=502, text=_BAD_GATEWAY, content_type="text/html")
        return ctx.render(Refusal("server-error", status=status), request)
    return web.Response(status=200, body=_CUT_JSON, content_type="application/json")


def _drop(request: web.Request) -> web.Response:
    """Close the connection; aiohttp then finds nothing to write the returned response to."""
    request.protocol.force_close()
    return web.Response(status=499)
