"""AI/ML API's video generation endpoints for the MiniMax models, simulated. Network I/O.

Under `/aimlapi`, the current API and the legacy one (both still served by AIMLAPI):

    POST /v2/video/generations                       {model, prompt, image_url, last_image_url,
                                                      resolution, duration, enhance_prompt}
    GET  /v2/video/generations?generation_id=
    POST /v2/generate/video/minimax/generation       first_frame_image / prompt_optimizer names
    GET  /v2/generate/video/minimax/generation?generation_id=
    GET  /cdn/whale/{token}/output.mp4?Expires=<epoch>&OSSAccessKeyId=...&Signature=...

Submits answer `{"generation_id", "status": "queued"}` (the current API's ids carry a
`:<model>` suffix). Polls say only queued / generating / completed / error: the official
SDK stops polling on anything else. Errors: `{message, path, requestId, statusCode,
timestamp}`, validation messages worded like zod's.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from hailuo_batch.simulator.context import (
    CONTEXT,
    Order,
    ProviderContext,
    Refusal,
    RefusalKind,
    Shared,
    answer,
)
from hailuo_batch.simulator.downloads import download
from hailuo_batch.simulator.images import JPEG_PNG, FrameImage, read_image
from hailuo_batch.simulator.params import InvalidParams, choice, flag, rule, text
from hailuo_batch.simulator.tasks import Phase, Task
from hailuo_batch.simulator.video import VideoSpec, frame_size

HAILUO_02 = "minimax/hailuo-02"
MODELS = (HAILUO_02, "video-01", "video-01-live2d")
STATUS: dict[Phase, str] = {
    "queued": "queued",
    "running": "generating",
    "succeeded": "completed",
    "failed": "error",
}
CREDITS = {(6, 768): 120_000, (10, 768): 240_000, (6, 1080): 294_000, (6, 720): 120_000}
FAILURE = {"name": "GenerationError", "message": "generation failed upstream, please retry"}
_REFUSALS: dict[RefusalKind, tuple[int, str]] = {
    "missing-key": (401, "Unauthorized: missing API key"),
    "bad-key": (401, "Unauthorized: invalid API key"),
    "balance": (403, "Insufficient credits: top up your balance to continue"),
    "down": (503, "Service unavailable"),
    "rate-limit": (429, "Too Many Requests"),
    "server-error": (500, "Internal server error"),
    "not-found": (404, "Generation not found"),
    "invalid": (400, "Body validation error"),
}
_JS_TYPES = {str: "string", bool: "boolean", int: "number", float: "number", list: "array"}


@dataclass(frozen=True, slots=True)
class Dialect:
    """The field names of one API generation."""

    image: str
    optimizer: str
    suffix_ids: bool  # the current API's ids read `<task id>:<model>`


CURRENT = Dialect(image="image_url", optimizer="enhance_prompt", suffix_ids=True)
LEGACY = Dialect(image="first_frame_image", optimizer="prompt_optimizer", suffix_ids=False)


def build(name: str, shared: Shared) -> web.Application:
    app = web.Application()
    app[CONTEXT] = ProviderContext(name, shared, render)
    legacy = "/v2/generate/video/minimax/generation"
    app.router.add_post("/v2/video/generations", _submitter(CURRENT), name="submit.current")
    app.router.add_get("/v2/video/generations", poll, name="poll.current")
    app.router.add_post(legacy, _submitter(LEGACY), name="submit.legacy")
    app.router.add_get(legacy, poll, name="poll.legacy")
    app.router.add_get("/cdn/whale/{token}/output.mp4", download, name="download", allow_head=False)
    return app


def render(refusal: Refusal, request: web.Request) -> web.Response:
    status, message = _REFUSALS[refusal.kind]
    if refusal.kind == "server-error":
        status = refusal.status
        message = "Service unavailable" if status == 503 else message
    if refusal.problem is not None:
        message = f"{message}: {refusal.problem.field}: {zod_message(refusal.problem)}"
    elif refusal.message and refusal.kind == "invalid":
        message = f"{message}: {refusal.message}"
    body = {
        "message": message,
        "path": "/" + request.path.split("/", 2)[-1],  # as the real service sees it
        "requestId": str(uuid.uuid4()),
        "statusCode": status,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
    }
    return answer(body, status)


def zod_message(problem: InvalidParams) -> str:
    """The issue text zod would give (AIMLAPI validates bodies with zod)."""
    if problem.problem == "required":
        return "Required"
    if problem.problem == "enum":
        expected = " | ".join(_literal(option) for option in problem.expected)
        return f"Invalid enum value. Expected {expected}, received {_literal(problem.received)}"
    if problem.problem == "type":
        received = _JS_TYPES.get(type(problem.received), "object")
        return f"Expected {problem.expected[0]}, received {received}"
    if problem.problem == "too_long":
        return "String must contain at most 2000 character(s)"
    if problem.problem == "too_short":
        return "String must contain at least 1 character(s)"
    return problem.reason


def _literal(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


def _image(body: Mapping[str, object], field: str) -> FrameImage | None:
    if body.get(field) is None:
        return None
    return read_image(body[field], field, formats=JPEG_PNG)


def check(body: Mapping[str, object], dialect: Dialect) -> Order:
    model = body.get("model")
    if model is None:
        raise InvalidParams("model", "required", "is required")
    if model not in MODELS:
        raise InvalidParams("model", "enum", "unknown model", expected=MODELS, received=model)
    prompt = text(body, "prompt", required=True) or ""
    first = _image(body, dialect.image)
    flag(body, dialect.optimizer)
    if model != HAILUO_02:  # Video-01: 6 s at 720P, whatever else is sent
        width, height = frame_size("720P", first.aspect if first else None)
        return Order(str(model), prompt, VideoSpec(width, height, 6), first_frame=first)
    if _image(body, "last_image_url") is not None and first is None:
        raise rule("last_image_url", f"last_image_url requires {dialect.image}")
    resolution = choice(body, "resolution", ("768P", "1080P"), "768P")
    duration = choice(body, "duration", (6, 10), 6)
    if resolution == "1080P" and duration != 6:
        raise rule("duration", "1080P resolution supports only 6-second videos")
    width, height = frame_size(resolution, first.aspect if first else None)
    return Order(HAILUO_02, prompt, VideoSpec(width, height, duration), first_frame=first)


def _submitter(dialect: Dialect) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def submit(request: web.Request) -> web.Response:
        ctx = request.app[CONTEXT]

        def new_id(order: Order) -> str:
            return f"{ctx.digits()}:{order.model}" if dialect.suffix_ids else ctx.digits()

        accepted = await ctx.accept(request, lambda body: check(body, dialect), new_id)
        if isinstance(accepted, web.Response):
            return accepted
        answered: dict[str, object] = {"generation_id": accepted.id, "status": "queued"}
        if dialect.suffix_ids:
            answered["meta"] = {"usage": {"credits_used": _credits(accepted)}}
        return answer(answered)

    return submit


def _credits(task: Task) -> int:
    key = (round(task.spec.duration), min(task.spec.width, task.spec.height))
    return CREDITS.get(key, 120_000)


async def poll(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    generation_id = request.query.get("generation_id")
    if not generation_id:
        ctx.ledger.count(ctx.name, "polls")
        problem = InvalidParams("generation_id", "required", "is required")
        return ctx.refuse(request, Refusal("invalid", str(problem), problem=problem))
    found = ctx.lookup(request, generation_id, "polls")
    if isinstance(found, web.Response):
        return found
    return answer(generation(ctx, found, request))


def generation(ctx: ProviderContext, task: Task, request: web.Request) -> dict[str, object]:
    """The poll body: `video.url` (a fresh signed OSS URL) once completed."""
    phase = task.at(ctx.board.now()).phase
    body: dict[str, object] = {"id": task.id, "status": STATUS[phase], "video": None, "error": None}
    if phase == "succeeded":
        link = ctx.mint(task)
        query = (
            f"Expires={link.expires_epoch}&OSSAccessKeyId=LTAI5tSimulator"
            f"&Signature={link.signature[:28]}%3D"
        )
        url = f"{request.url.origin()}/{ctx.name}/cdn/whale/{link.token}/output.mp4?{query}"
        body["video"] = {"url": url}
        body["meta"] = {"usage": {"credits_used": _credits(task)}}
    if phase == "failed":
        body["error"] = FAILURE
    return body
