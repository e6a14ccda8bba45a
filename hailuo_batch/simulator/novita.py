"""Novita AI's async task API, also serving HighwayAPI (its white label), simulated. Network I/O.

Under the provider's mount point (docs/providers/novita.md §2-§4):

    POST /v3/async/minimax-hailuo-02          {prompt, image|image_url, end_image, duration,
                                               resolution, enable_prompt_expansion,
                                               fast_pretreatment}
    POST /v3/async/minimax-hailuo-2.3-t2v     {prompt, duration, resolution,
                                               enable_prompt_expansion, fast_pretreatment}
    POST /v3/async/minimax-hailuo-2.3-i2v     the same with `image` (required)
    POST /v3/async/minimax-hailuo-2.3-fast-i2v  {prompt, image (required), duration,
                                               resolution, enable_prompt_expansion}
    POST /v3/async/minimax-video-01           {prompt, image_url, enable_prompt_expansion}
    GET  /v3/async/task-result?task_id=       task{status, progress_percent, eta, reason}, videos[]
    GET  /cos/prod/{token}.mp4                the video, behind a COS-style presigned URL
    POST /v3/minimax/v2/video_generation, GET /v3/minimax/v2/query/video_generation/{id}
                                              H3 in MiniMax's V2 shape (`minimax_v2`), Novita only

HighwayAPI serves the same paths (its spec lists exactly these five models). Fields a
path does not document are ignored, as JSON APIs do. Submits answer 200
`{"task_id": <uuid>}`; errors are `{code, reason, message, metadata}`. Statuses are only
the four the official SDK knows (never UNKNOWN or CANCELED).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Literal

from aiohttp import web

from hailuo_batch.simulator import minimax_v2
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
from hailuo_batch.simulator.links import Link
from hailuo_batch.simulator.params import choice, flag, rule, text
from hailuo_batch.simulator.tasks import Phase, Task
from hailuo_batch.simulator.video import VideoSpec, frame_size

STATUS: dict[Phase, str] = {
    "queued": "TASK_STATUS_QUEUED",
    "running": "TASK_STATUS_PROCESSING",
    "succeeded": "TASK_STATUS_SUCCEED",
    "failed": "TASK_STATUS_FAILED",
}
FAILURE_REASON = "video generation failed, please try again"
_REFUSALS: dict[RefusalKind, tuple[int, str, str]] = {
    "missing-key": (401, "FAILED_TO_AUTH", "failed to auth: missing or malformed Authorization"),
    "bad-key": (403, "INVALID_API_KEY", "invalid api key"),
    "balance": (403, "NOT_ENOUGH_BALANCE", "not enough balance, please top up"),
    "down": (503, "SERVICE_NOT_AVAILABLE", "service not available, please try again later"),
    "rate-limit": (429, "RATE_LIMIT_EXCEEDED", "rate limit exceeded"),
    "server-error": (500, "INTERNAL_SERVER_ERROR", "internal server error"),
    "not-found": (404, "TASK_NOT_FOUND", "task not found"),
    "invalid": (400, "INVALID_REQUEST_BODY", "invalid request body"),
}


@dataclass(frozen=True, slots=True)
class HailuoPath:
    """What one Hailuo submit path takes: its first frame (read from `image`, or not at
    all), a last frame, and `fast_pretreatment`. 02 also reads its first frame's mid-2025
    name, `image_url`, where its current docs still show it in one place."""

    first: Literal["optional", "required", "none"]
    end_frame: bool = False
    pretreatment: bool = True
    image_url: bool = False


HAILUO_PATHS = {
    "minimax-hailuo-02": HailuoPath("optional", end_frame=True, image_url=True),
    "minimax-hailuo-2.3-t2v": HailuoPath("none"),
    "minimax-hailuo-2.3-i2v": HailuoPath("required"),
    "minimax-hailuo-2.3-fast-i2v": HailuoPath("required", pretreatment=False),
}


def build(name: str, shared: Shared) -> web.Application:
    """The sub-application mounted at `/<name>`."""
    app = web.Application()
    app[CONTEXT] = ProviderContext(name, shared, render)
    for path, takes in HAILUO_PATHS.items():
        checker = partial(check_hailuo, path=path, takes=takes)
        route = "submit." + path.replace("-", "_").replace(".", "_")
        app.router.add_post(f"/v3/async/{path}", partial(_submit, check=checker), name=route)
    app.router.add_post("/v3/async/minimax-video-01", submit_video01, name="submit.video_01")
    if name == "novita":  # H3, passed through in MiniMax's V2 shape; HighwayAPI has none
        minimax_v2.add_routes(app, "/v3/minimax", (minimax_v2.H3,))
    app.router.add_get("/v3/async/task-result", poll, name="poll")
    app.router.add_get("/cos/prod/{token}.mp4", download, name="download", allow_head=False)
    return app


def render(refusal: Refusal, request: web.Request) -> web.Response:
    status, reason, message = _REFUSALS[refusal.kind]
    if refusal.kind == "server-error":
        status = refusal.status
        reason = "SERVICE_NOT_AVAILABLE" if status == 503 else reason
    body = {"code": status, "reason": reason, "message": refusal.message or message}
    return answer({**body, "metadata": {}}, status)


def _image(body: Mapping[str, object], field: str) -> FrameImage | None:
    """An optional image; Novita's backend reads an empty string as absent."""
    if body.get(field) in (None, ""):
        return None
    return read_image(body[field], field, formats=JPEG_PNG)


def check_hailuo(body: Mapping[str, object], path: str, takes: HailuoPath) -> Order:
    prompt = text(body, "prompt", required=True) or ""
    first = None
    if takes.first != "none":
        first = _image(body, "image") or (_image(body, "image_url") if takes.image_url else None)
    if takes.first == "required" and first is None:
        raise rule("image", f"{path} requires image (the first frame)")
    if takes.end_frame and _image(body, "end_image") is not None and first is None:
        raise rule("end_image", "end_image requires image (the first frame)")
    duration = choice(body, "duration", (6, 10), 6)
    resolution = choice(body, "resolution", ("768P", "1080P"), "768P")
    if resolution == "1080P" and duration != 6:
        raise rule("resolution", "1080P only supports duration 6")
    flag(body, "enable_prompt_expansion")
    if takes.pretreatment:
        flag(body, "fast_pretreatment")
    width, height = frame_size(resolution, first.aspect if first else None)
    # The path upper-cased, as the documented MINIMAX_HAILUO_02 and MINIMAX_VIDEO_01 are,
    # with the length and size observed on 02's; the 2.3 paths' real values are UNVERIFIED.
    task_type = f"{path.upper().replace('-', '_')}_{duration}S_{resolution}"
    return Order(task_type, prompt, VideoSpec(width, height, duration), first_frame=first)


def check_video01(body: Mapping[str, object]) -> Order:
    prompt = text(body, "prompt", required=True) or ""
    first = _image(body, "image_url")
    flag(body, "enable_prompt_expansion")
    width, height = frame_size("720P", first.aspect if first else None)
    return Order("MINIMAX_VIDEO_01", prompt, VideoSpec(width, height, 6), first_frame=first)


async def submit_video01(request: web.Request) -> web.Response:
    return await _submit(request, check_video01)


async def _submit(
    request: web.Request, check: Callable[[Mapping[str, object]], Order]
) -> web.Response:
    ctx = request.app[CONTEXT]
    accepted = await ctx.accept(request, check, lambda _order: ctx.uuid())
    if isinstance(accepted, web.Response):
        return accepted
    return answer({"task_id": accepted.id})


async def poll(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    found = ctx.lookup(request, request.query.get("task_id"), "polls")
    if isinstance(found, web.Response):
        return found
    return answer(task_result(ctx, found, request))


def task_result(ctx: ProviderContext, task: Task, request: web.Request) -> dict[str, object]:
    """The task-result body: progress and eta while running, a fresh COS URL once done."""
    now = ctx.board.now()
    progress = task.at(now)
    percent = {"queued": 0, "running": min(99, int(progress.fraction * 100)), "succeeded": 100}
    videos = []
    if progress.phase == "succeeded":
        link = ctx.mint(task)
        videos.append(
            {
                "video_url": cos_url(request, ctx.name, link),
                "video_url_ttl": str(int(ctx.config.url_ttl)),
                "video_type": "mp4",
                "nsfw_detection_result": None,
            }
        )

    def millis(at: float, reached: bool) -> str:
        return str(int(ctx.board.epoch(at) * 1000)) if reached else ""

    debug_info = {
        "request_info": "",
        "submit_time_ms": millis(task.created, True),
        "execute_time_ms": millis(task.starts, now >= task.starts),
        "complete_time_ms": millis(task.ends, progress.finished),
    }
    return {
        "extra": {"seed": "", "enable_nsfw_detection": False, "debug_info": debug_info},
        "task": {
            "task_id": task.id,
            "task_type": task.model,
            "status": STATUS[progress.phase],
            "reason": FAILURE_REASON if progress.phase == "failed" else "",
            "eta": math.ceil(progress.eta),
            "progress_percent": percent.get(progress.phase, 0),
        },
        "images": [],
        "videos": videos,
        "audios": [],
    }


def cos_url(request: web.Request, name: str, link: Link) -> str:
    """A Tencent COS presigned URL: the signature window is `q-sign-time=<start>;<end>`."""
    window = f"{link.issued_epoch}%3B{link.expires_epoch}"
    query = (
        f"q-sign-algorithm=sha1&q-ak=AKIDsimulator&q-sign-time={window}&q-key-time={window}"
        f"&q-header-list=host&q-url-param-list=&q-signature={link.signature[:40]}"
    )
    return f"{request.url.origin()}/{name}/cos/prod/{link.token}.mp4?{query}"
