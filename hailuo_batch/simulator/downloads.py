"""Serving finished videos from signed, expiring links, like a storage CDN. Network I/O.

No key is needed (real download URLs are presigned); a forged token or an expired link
gets the storage service's 403 XML. Bodies are streamed with a `Content-Length`. Each
body is its task's: the look the task asked for (size, length, first frame, and prompt
when `SimConfig.draw_prompts`), watermarked, tagged with the task id (see `video`).
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from PIL import Image

from hailuo_batch.simulator.context import CONTEXT, ProviderContext, truncated
from hailuo_batch.simulator.links import Claims
from hailuo_batch.simulator.picture import still
from hailuo_batch.simulator.tasks import Task
from hailuo_batch.simulator.video import Draw, Look

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
    look = _look(ctx, claims, task)
    body = await asyncio.to_thread(ctx.videos.mp4, look, claims.task_id or "unknown", _drawer(ctx))
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


def _look(ctx: ProviderContext, claims: Claims, task: Task | None) -> Look:
    """What the link's video shows: its task's first frame and, if drawn, its prompt."""
    if task is None:  # a link minted before links named their task
        return Look(claims.spec)
    caption = task.prompt if ctx.config.draw_prompts and task.prompt else None
    return Look(claims.spec, task.image, caption)


def _drawer(ctx: ProviderContext) -> Draw:
    def draw(look: Look) -> Image.Image | None:
        first = None
        if look.image is not None:
            first = ctx.frames.get(look.image)
            if first is None:
                return None
        return still(look, first)

    return draw
