"""Serving finished videos from signed, expiring links, like a storage CDN. Network I/O.

No key is needed (real download URLs are presigned); a forged token or an expired link
gets the storage service's 403 XML. Bodies are streamed with a `Content-Length`.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from hailuo_batch.simulator.context import CONTEXT, truncated
from hailuo_batch.simulator.video import mp4_bytes

CHUNK = 64 * 1024


def _denied(code: str, message: str) -> web.Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return web.Response(status=403, text=body, content_type="application/xml")


async def download(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    claims = ctx.links.open(request.match_info["token"])
    if claims is None:
        return _denied("SignatureDoesNotMatch", "The request signature does not match")
    task = ctx.board.get(claims.task_id)
    if task is not None:
        ctx.asked(task.id)  # even an expired link shows the client knew the task
    if ctx.links.expired(claims.expires):
        ctx.ledger.count(ctx.name, "expired_links")
        return _denied("AccessDenied", "Request has expired")
    body = await asyncio.to_thread(mp4_bytes, claims.spec)
    response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
    response.content_length = len(body)
    await response.prepare(request)
    if truncated():
        await response.write(body[: len(body) // 2])
        request.protocol.force_close()
        return response
    for start in range(0, len(body), CHUNK):
        await response.write(body[start : start + CHUNK])
    await response.write_eof()
    ctx.ledger.count(ctx.name, "downloads")
    return response
