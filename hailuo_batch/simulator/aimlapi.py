"""AI/ML API's video generation endpoints for the MiniMax models, simulated. Network I/O.

Under `/aimlapi`, the current API and the legacy one (both still served by AIMLAPI;
docs/providers/aimlapi.md):

    POST /v2/video/generations                       {model, prompt, image_url, last_image_url,
                                                      resolution, duration, enhance_prompt}
    GET  /v2/video/generations?generation_id=
    POST /v2/generate/video/minimax/generation       first_frame_image / prompt_optimizer names
    GET  /v2/generate/video/minimax/generation?generation_id=
    GET  /cdn/whale/{token}/output.mp4?Expires=<epoch>&OSSAccessKeyId=...&Signature=...

Models: `minimax/hailuo-02` (the only one with `last_image_url`), `minimax/hailuo-2.3`,
`minimax/hailuo-2.3-fast` (`image_url` required), `video-01` and `video-01-live2d`
(`image_url` required; 6 s at 720P whatever else is sent), and on the current API only
`minimax/h3`: 2K, 4-15 s, `ratio`, reference URL lists (`h3flat`), a 7000-character prompt.

Submits answer `{"id", "generation_id", "status": "queued"}` (the current API's ids carry
a `:<model>` suffix; the legacy one answers `generation_id` only). Polls say only queued /
generating / completed / error: the official SDK stops polling on anything else. Usage
(`meta.usage.credits_used`, with `usd_spent` for H3, whose schema requires both) comes
with the submit and the finished generation; the credit figures are the simulator's own,
priced like the documented samples (2.3 768P 6 s: 588,000; 2.3-Fast: 399,000). Errors:
`{message, path, requestId, statusCode, timestamp}`, validation messages worded like zod's.
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
from hailuo_batch.simulator.h3flat import H3Fields, check_h3
from hailuo_batch.simulator.images import JPEG_PNG, FrameImage, read_image
from hailuo_batch.simulator.params import InvalidParams, choice, flag, rule, text
from hailuo_batch.simulator.tasks import Phase, Task
from hailuo_batch.simulator.video import VideoSpec, frame_size

HAILUO_02 = "minimax/hailuo-02"
HAILUO_23, HAILUO_23_FAST = "minimax/hailuo-2.3", "minimax/hailuo-2.3-fast"
H3 = "minimax/h3"
FIXED_LENGTH = ("video-01", "video-01-live2d")  # 6 s at 720P
IMAGE_REQUIRED = (HAILUO_23_FAST, "video-01-live2d")
MODELS = (HAILUO_02, HAILUO_23, HAILUO_23_FAST, *FIXED_LENGTH, H3)
H3_FIELDS = H3Fields(
    first="image_url",
    last="last_image_url",
    images="reference_image_urls",
    videos="video_urls",
    audios="audio_urls",
    resolutions=("2K",),
)
STATUS: dict[Phase, str] = {
    "queued": "queued",
    "running": "generating",
    "succeeded": "completed",
    "failed": "error",
}
CREDITS_PER_USD = 2_000_000
# Credits per second of video at the model's lowest resolution; 1080P costs FULL_HD times
# as much. 2.3 and 2.3-Fast match the documented samples; H3 is MiniMax's 2K $0.13/s plus
# AIMLAPI's 5 % (docs/providers/prices.md); the others are this simulator's choice.
CREDITS_PER_SECOND = {
    HAILUO_02: 20_000,
    HAILUO_23: 98_000,
    HAILUO_23_FAST: 66_500,
    H3: 273_000,
    "video-01": 20_000,
    "video-01-live2d": 20_000,
}
FULL_HD = 2.45
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
    """The field names and models of one API generation."""

    image: str
    optimizer: str
    suffix_ids: bool  # the current API's ids read `<task id>:<model>`
    models: tuple[str, ...]


CURRENT = Dialect(image="image_url", optimizer="enhance_prompt", suffix_ids=True, models=MODELS)
LEGACY = Dialect(
    image="first_frame_image",
    optimizer="prompt_optimizer",
    suffix_ids=False,
    models=tuple(model for model in MODELS if model != H3),  # H3 came after the legacy API
)


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
        return f"String must contain at most {problem.expected[0]} character(s)"
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
    if not isinstance(model, str) or model not in dialect.models:
        expected = dialect.models
        raise InvalidParams("model", "enum", "unknown model", expected=expected, received=model)
    if model == H3:
        return check_h3(body, H3_FIELDS, H3)
    prompt = text(body, "prompt", required=True) or ""
    first = _image(body, dialect.image)
    if model in IMAGE_REQUIRED and first is None:
        raise InvalidParams(dialect.image, "required", "is required")
    flag(body, dialect.optimizer)
    if model in FIXED_LENGTH:  # whatever else is sent
        width, height = frame_size("720P", first.aspect if first else None)
        return Order(model, prompt, VideoSpec(width, height, 6), first_frame=first)
    if model == HAILUO_02 and _image(body, "last_image_url") is not None and first is None:
        raise rule("last_image_url", f"last_image_url requires {dialect.image}")
    resolution = choice(body, "resolution", ("768P", "1080P"), "768P")
    duration = choice(body, "duration", (6, 10), 6)
    if resolution == "1080P" and duration != 6:
        raise rule("duration", "1080P resolution supports only 6-second videos")
    width, height = frame_size(resolution, first.aspect if first else None)
    return Order(model, prompt, VideoSpec(width, height, duration), first_frame=first)


def _submitter(dialect: Dialect) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def submit(request: web.Request) -> web.Response:
        ctx = request.app[CONTEXT]

        def new_id(order: Order) -> str:
            return f"{ctx.digits()}:{order.model}" if dialect.suffix_ids else ctx.digits()

        accepted = await ctx.accept(request, lambda body: check(body, dialect), new_id)
        if isinstance(accepted, web.Response):
            return accepted
        answered: dict[str, object] = {"generation_id": accepted.id, "status": "queued"}
        if dialect.suffix_ids:  # the current OpenAPI answers the poll schema: `id` too
            answered = {"id": accepted.id, **answered, "meta": {"usage": _usage(accepted)}}
        return answer(answered)

    return submit


def _usage(task: Task) -> dict[str, object]:
    """`meta.usage` of a task: its credits, and for H3 the same in dollars."""
    full_hd = task.model != H3 and min(task.spec.width, task.spec.height) >= 1080
    rate = CREDITS_PER_SECOND[task.model] * (FULL_HD if full_hd else 1.0)
    credits = round(rate * task.spec.duration)
    if task.model != H3:
        return {"credits_used": credits}
    return {"credits_used": credits, "usd_spent": credits / CREDITS_PER_USD}


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
        body["meta"] = {"usage": _usage(task)}
    if phase == "failed":
        body["error"] = FAILURE
    if task.model == H3:  # H3's documented answer names its model
        body["model"] = H3
    return body
