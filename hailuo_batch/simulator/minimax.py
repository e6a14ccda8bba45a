"""MiniMax's own video API, simulated: v1 (submit, query, files/retrieve) and V2 (H3). Network I/O.

Under `/minimax`:

    POST /v1/video_generation                       {model, prompt, first_frame_image, ...}
    GET  /v1/query/video_generation?task_id=        Preparing/Queueing/Processing/Success/Fail
    GET  /v1/files/retrieve?file_id=                file.download_url (a fresh link each time)
    GET  /cdn/inference_output/video/{day}/{token}/output.mp4
    POST /v2/video_generation, GET /v2/query/video_generation/{task_id}   H3: see `minimax_v2`

v1 checks each model as its OpenAPI pages (T2V, I2V, first+last frame, S2V) document it
(docs/providers/minimax.md section 2): the T2V-only models refuse a first frame, the
I2V-only ones (the 01 I2V models, Hailuo-2.3-Fast) require one, only Hailuo-02 takes a
last frame (with a first), only S2V-01 takes `subject_reference` (one character image)
and it has no duration or resolution; the 01 family makes 720P for 6 s and takes no
`fast_pretreatment`. `video-01` is in no current enum and is refused. What S2V-01 makes is
undocumented (UNVERIFIED): 6 s at 720P here, as other sources say.

V1 has no task list: a client that lost a submit reply cannot find the task again. A
task is answered only on the API that created it: v1 paths do not know H3 tasks.

Every v1 answer carries `base_resp`; refusals are mostly HTTP 200 with a non-zero
`base_resp.status_code` (1004 key, 1008 balance, 2013 invalid params, 1002 rate limit,
which also comes as HTTP 429). V2 refusals are V2's own (`minimax_v2.render`). Responses
carry a `Trace-Id` header.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping

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
    role_of,
)
from hailuo_batch.simulator.downloads import download
from hailuo_batch.simulator.images import JPEG_PNG_WEBP, FrameImage, read_image
from hailuo_batch.simulator.params import InvalidParams, choice, flag, rule, text
from hailuo_batch.simulator.tasks import Task
from hailuo_batch.simulator.video import VideoSpec, frame_size

HAILUO_02 = "MiniMax-Hailuo-02"
HAILUO_23_FAST = "MiniMax-Hailuo-2.3-Fast"
HAILUO = (HAILUO_02, "MiniMax-Hailuo-2.3", HAILUO_23_FAST)  # duration, resolution, pretreatment
TEXT_ONLY = ("T2V-01", "T2V-01-Director")  # the T2V enum's 01 models
IMAGE_ONLY = ("I2V-01", "I2V-01-Director", "I2V-01-live", HAILUO_23_FAST)  # the I2V enum's only
FAMILY_01 = (*TEXT_ONLY, "I2V-01", "I2V-01-Director", "I2V-01-live")  # 720P, 6 s
S2V = "S2V-01"
MODELS = (*HAILUO, *FAMILY_01, S2V)
OK = {"status_code": 0, "status_msg": "success"}
FAILED = {"status_code": 1000, "status_msg": "unknown error"}
_REFUSALS: dict[RefusalKind, tuple[int, int, str]] = {  # HTTP status, status_code, status_msg
    "missing-key": (200, 1004, "login fail: Please carry the API secret key in the header"),
    "bad-key": (200, 1004, "login fail: invalid api key"),
    "balance": (200, 1008, "insufficient balance"),
    "down": (503, 1033, "system error, please retry later"),
    "rate-limit": (200, 1002, "rate limit exceeded(RPM)"),
    "server-error": (500, 1000, "unknown error"),
    "not-found": (200, 2013, "invalid params"),
    "invalid": (200, 2013, "invalid params"),
}


def build(name: str, shared: Shared) -> web.Application:
    app = web.Application()
    app[CONTEXT] = ProviderContext(name, shared, render)
    app.router.add_post("/v1/video_generation", submit, name="submit")
    app.router.add_get("/v1/query/video_generation", poll, name="poll")
    app.router.add_get("/v1/files/retrieve", retrieve, name="retrieve")
    app.router.add_get(
        "/cdn/inference_output/video/{day}/{token}/output.mp4",
        download,
        name="download",
        allow_head=False,
    )
    minimax_v2.add_routes(app, "", tuple(minimax_v2.MODELS))
    app.on_response_prepare.append(_trace_id)
    return app


async def _trace_id(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Trace-Id"] = uuid.uuid4().hex


def render(refusal: Refusal, request: web.Request) -> web.Response:
    if minimax_v2.is_v2(request):
        return minimax_v2.render(refusal, request)
    status, code, message = _REFUSALS[refusal.kind]
    if refusal.kind == "rate-limit" and refusal.roll >= 0.5:
        status = 429  # MiniMax's gateway also answers rate limits at the HTTP level
    if refusal.kind == "server-error":
        status, code = refusal.status, 1033 if refusal.status == 503 else 1000
    if refusal.kind in ("invalid", "not-found") and refusal.message:
        message = f"invalid params, {refusal.message}"
    body: dict[str, object] = {"base_resp": {"status_code": code, "status_msg": message}}
    if role_of(request) == "submit":
        body = {"task_id": "", **body}
    return answer(body, status)


def _image(body: Mapping[str, object], field: str) -> FrameImage | None:
    if body.get(field) is None:
        return None
    return read_image(body[field], field, formats=JPEG_PNG_WEBP)


def _refuse_present(body: Mapping[str, object], model: str, fields: tuple[str, ...]) -> None:
    """Fields other models take that `model`'s schema has none of."""
    for field in fields:
        if body.get(field) is not None:
            raise rule(field, f"{model} does not accept {field}")


def _subject(body: Mapping[str, object]) -> FrameImage:
    """S2V-01's `[{"type": "character", "image": ["<url or data URI>"]}]`: exactly one."""
    value = body.get("subject_reference")
    if value is None:
        raise InvalidParams("subject_reference", "required", f"is required for {S2V}")
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict):
        raise rule("subject_reference", "must be an array of one {type, image} object")
    item = value[0]
    if item.get("type") != "character":
        raise rule("subject_reference", 'type must be "character"')
    images = item.get("image")
    if not isinstance(images, list) or len(images) != 1:
        raise rule("subject_reference", "image must be an array of one image")
    return read_image(images[0], "subject_reference.image", formats=JPEG_PNG_WEBP)


def check(body: Mapping[str, object]) -> Order:
    """A v1 body as the four OpenAPI pages (T2V, I2V, first+last frame, S2V) allow it."""
    model = body.get("model")
    if not isinstance(model, str) or model not in MODELS:
        raise InvalidParams("model", "enum", f"unsupported model {model!r}", expected=MODELS)
    flag(body, "prompt_optimizer")
    if model == S2V:
        absent = ("first_frame_image", "last_frame_image", "duration", "resolution")
        _refuse_present(body, model, (*absent, "fast_pretreatment"))
        _subject(body)
        prompt = text(body, "prompt", required=False) or ""
        # No page says what S2V-01 makes (UNVERIFIED): other sources say 6 s at 720P.
        width, height = frame_size("720P", None)
        return Order(model, prompt, VideoSpec(width, height, 6))
    _refuse_present(body, model, ("subject_reference",))
    first = _image(body, "first_frame_image")
    last = _image(body, "last_frame_image")
    if model in IMAGE_ONLY and first is None:
        raise rule("first_frame_image", f"{model} requires first_frame_image")
    if model in TEXT_ONLY and first is not None:
        raise rule("first_frame_image", f"{model} does not accept first_frame_image")
    prompt = text(body, "prompt", required=first is None) or ""
    if last is not None and (model != HAILUO_02 or first is None):
        raise rule("last_frame_image", f"needs {HAILUO_02} and a first_frame_image")
    if model in FAMILY_01:
        _refuse_present(body, model, ("fast_pretreatment",))
        duration = choice(body, "duration", (6,), 6)
        resolution = choice(body, "resolution", ("720P",), "720P")
    else:
        flag(body, "fast_pretreatment")
        duration = choice(body, "duration", (6, 10), 6)
        offered = ("512P", "768P", "1080P") if model == HAILUO_02 else ("768P", "1080P")
        resolution = choice(body, "resolution", offered, "768P")
        if resolution == "512P" and (first is None or last is not None):
            raise rule("resolution", "512P is for image-to-video with a first frame only")
        if resolution == "1080P" and duration != 6:
            raise rule("resolution", "1080P only supports duration 6")
    width, height = frame_size(resolution, first.aspect if first else None)
    return Order(model, prompt, VideoSpec(width, height, duration), first_frame=first)


async def submit(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    # A task's file id is fixed at submit and shown once it succeeds.
    accepted = await ctx.accept(request, check, lambda _order: ctx.digits(), ctx.digits)
    if isinstance(accepted, web.Response):
        return accepted
    return answer({"task_id": accepted.id, "base_resp": OK})


def status_of(ctx: ProviderContext, task: Task) -> str:
    """The v1 vocabulary; `Preparing` covers a queued task's first tenth of a generation."""
    now = ctx.board.now()
    progress = task.at(now)
    if progress.phase == "queued":
        preparing = now - task.created < 0.1 * (task.ends - task.starts)
        return "Preparing" if preparing else "Queueing"
    return {"running": "Processing", "succeeded": "Success", "failed": "Fail"}[progress.phase]


async def poll(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    task_id = request.query.get("task_id")
    found = ctx.lookup(request, task_id, "polls")
    if isinstance(found, web.Response):
        return found
    if minimax_v2.is_v2_task(found):
        return ctx.refuse(request, Refusal("not-found", f"task_id {task_id!r} not found"))
    status = status_of(ctx, found)
    done = status == "Success"
    return answer(
        {
            "task_id": found.id,
            "status": status,
            "file_id": found.file_id if done else "",
            "video_width": found.spec.width if done else 0,
            "video_height": found.spec.height if done else 0,
            "base_resp": FAILED if status == "Fail" else OK,
        }
    )


async def retrieve(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    file_id = request.query.get("file_id", "")
    owner = ctx.board.by_file(file_id)
    missing = f"file_id {file_id!r} not found"
    found = ctx.lookup(request, owner.id if owner else None, "retrieves", missing=missing)
    if isinstance(found, web.Response):
        return found
    if status_of(ctx, found) != "Success":
        return ctx.refuse(request, Refusal("not-found", f"file {file_id} is not ready"))
    link = ctx.mint(found)
    day = time.strftime("%Y-%m-%d", time.gmtime(ctx.board.epoch(found.ends)))
    path = f"/{ctx.name}/cdn/inference_output/video/{day}/{link.token}/output.mp4"
    url = f"{request.url.origin()}{path}"
    file = {
        "file_id": int(file_id),
        "bytes": 0,
        "created_at": int(ctx.board.epoch(found.ends)),
        "filename": "output.mp4",
        "purpose": "video_generation",
        "download_url": url,
        "backup_download_url": url,
    }
    return answer({"file": file, "base_resp": OK})
