"""MiniMax's Video Generation V2 API (H3), simulated: create and query. Network I/O.

Routes added to a provider's sub-application, under its `root` ("" at MiniMax,
"/v3/minimax" at Novita, which passes H3 through in this shape):

    POST {root}/v2/video_generation                  {model, content[], resolution, duration,
                                                      ratio, callback_url}  -> {"task_id"}
    GET  {root}/v2/query/video_generation/{task_id}  {"task": {id, model, status, content{url},
                                                      error{code, message}, usage, ...}}
    GET  /cdn/inference_output/rollout/{day}/{token}/output.mp4

Sources: docs/providers/minimax.md sections 8, 9 and 12 (MiniMax's v2-video-generation
pages, H; MiniMax-AI/cli `src/video/v2.ts`, H-code, for the 12-reference total and
reference audio needing a reference image or video), docs/providers/novita.md section 7.
`content[]` holds exactly one non-empty text item (at most 7000 characters), then
`image_url` items with roles `first_frame` (the default of a lone image), `last_frame`
or `reference_image`, and `video_url`/`audio_url` items with `reference_video` /
`reference_audio`; frames and references exclude each other. MiniMax-H3 makes 768P or
2K for 4 to 15 s; MiniMax-H3-Max 480P or 768P (default 768P) for 5 to 15 s, without
references. A text-only request needs a ratio other than `adaptive`; with frames the ratio
is ignored and the frame follows the first (or last) frame. Every video has sound.

Statuses: `queued`, `running`, `succeeded`, `failed` (`error.code` a string such as "1000").
`cancelled` needs a DELETE and `expired` is in no current page: neither is emitted.
Refusals are OpenAI-style bodies with the code at the end of the message, under real HTTP
statuses (`render`). Choices the docs leave open (UNVERIFIED): an unknown task id answers
400 `invalid task_id (2013)`; a service down answers 503 (the pages list 500 and 529);
2K frames are 1440 px on the short side (`video.SHORT_SIDE`); with references and an
`adaptive` ratio the frame is 16:9; unknown top-level fields are refused, so an adapter
sending what H3 lacks (a prompt optimizer, an audio switch) is caught here. The task list
(`GET {root}/v2/query/video_generation`) is not simulated: its entries carry no input, so
no client can use it to find a lost submit. At Novita, which envelope errors come in is
UNVERIFIED: the simulator keeps Novita's own there (its `render`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from hailuo_batch.simulator.context import CONTEXT, Order, Refusal, RefusalKind, answer
from hailuo_batch.simulator.downloads import download
from hailuo_batch.simulator.images import FrameImage, ImageLimits, read_image
from hailuo_batch.simulator.params import InvalidParams, T, choice, flag, rule
from hailuo_batch.simulator.tasks import Phase, Task
from hailuo_batch.simulator.video import VideoSpec, aspect_of, frame_size

H3 = "MiniMax-H3"
H3_MAX = "MiniMax-H3-Max"
MAX_TEXT = 7000
RATIOS = ("adaptive", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
FIELDS = frozenset(
    {"model", "content", "resolution", "duration", "ratio", "callback_url", "aigc_watermark"}
)  # `aigc_watermark`: an older Chinese page only, accepted leniently
IMAGE_LIMITS = ImageLimits(max_mb=30, min_side=256, max_side=5760, aspect=(0.4, 2.5, "0.4 and 2.5"))
FORMATS = frozenset({"JPEG", "PNG", "WEBP"})  # HEIC/HEIF too, which Pillow cannot read here
IMAGE_ROLES = ("first_frame", "last_frame", "reference_image")
MEDIA_ROLE = {"video_url": "reference_video", "audio_url": "reference_audio"}
MAX_REFERENCES = {"reference_image": 9, "reference_video": 3, "reference_audio": 3}
MAX_REFERENCES_TOTAL = 12
STATUS: dict[Phase, str] = {
    "queued": "queued",
    "running": "running",
    "succeeded": "succeeded",
    "failed": "failed",
}
FAILURE = {"code": "1000", "message": "unknown error, please retry"}
_REFUSALS: dict[RefusalKind, tuple[int, str, int, str]] = {  # HTTP, error.type, code, message
    "missing-key": (401, "authorized_error", 1004, "login fail: Please carry the API secret key"),
    "bad-key": (401, "authorized_error", 1004, "login fail: invalid api key"),
    "balance": (402, "insufficient_balance_error", 1008, "insufficient balance"),
    "down": (503, "server_error", 1033, "system error, please retry later"),
    "rate-limit": (429, "rate_limit_error", 1002, "rate limit exceeded(RPM)"),
    "server-error": (500, "server_error", 1000, "unknown error"),
    "not-found": (400, "bad_request_error", 2013, "invalid params, invalid task_id"),
    "invalid": (400, "bad_request_error", 2013, "invalid params"),
}


@dataclass(frozen=True, slots=True)
class ModelLimits:
    """What one V2 model takes."""

    resolutions: tuple[str, ...]
    default_resolution: str | None  # None: required
    durations: tuple[int, ...]
    references: bool


MODELS = {
    H3: ModelLimits(("768P", "2K"), None, tuple(range(4, 16)), references=True),
    H3_MAX: ModelLimits(("480P", "768P"), "768P", tuple(range(5, 16)), references=False),
}


def add_routes(app: web.Application, root: str, models: tuple[str, ...]) -> None:
    """V2's create and query under `root`, selling `models`, and its video links."""
    app.router.add_post(f"{root}/v2/video_generation", submitter(models), name="submit.v2")
    app.router.add_get(f"{root}/v2/query/video_generation/{{task_id}}", poll, name="poll.v2")
    app.router.add_get(
        "/cdn/inference_output/rollout/{day}/{token}/output.mp4",
        download,
        name="download.v2",
        allow_head=False,
    )


def is_v2(request: web.Request) -> bool:
    """Whether a request came in on one of these routes."""
    return (request.match_info.route.name or "").endswith(".v2")


def is_v2_task(task: Task) -> bool:
    """Whether a task was created here: a v1 (or Novita v3) path must not answer for it."""
    return task.model in MODELS


def render(refusal: Refusal, request: web.Request) -> web.Response:
    """An OpenAI-style error: `http_code` a string, the numeric code ending the message."""
    status, error_type, code, message = _REFUSALS[refusal.kind]
    if refusal.kind == "server-error" and refusal.status == 503:
        status, error_type, code, message = _REFUSALS["down"]
    if refusal.kind == "invalid" and refusal.message:
        message = f"invalid params, {refusal.message}"
    error = {"type": error_type, "message": f"{message} ({code})", "http_code": str(status)}
    body = {"type": "error", "error": error, "request_id": uuid.uuid4().hex}
    return answer(body, status)


def checker(models: tuple[str, ...]) -> Callable[[Mapping[str, object]], Order]:
    """The body check for a provider selling `models` (Novita passes MiniMax-H3 only)."""

    def check(body: Mapping[str, object]) -> Order:
        unknown = sorted(set(body) - FIELDS)
        if unknown:
            raise InvalidParams(unknown[0], "rule", "is not a field of this API")
        model_id = body.get("model")
        if not isinstance(model_id, str) or model_id not in models:
            raise InvalidParams("model", "enum", f"unsupported model {model_id!r}", expected=models)
        model = MODELS[model_id]
        prompt, items = _content(body.get("content"))
        frames = {role: image for role, image in items if role in ("first_frame", "last_frame")}
        refs = [role for role, _ in items if role.startswith("reference_")]
        if frames and refs:
            raise rule("content", "first/last frame and reference items cannot be combined")
        if refs and not model.references:
            raise rule("content", f"{model_id} takes no reference items")
        resolution = _required(body, "resolution", model.resolutions, model.default_resolution)
        duration = _required(body, "duration", model.durations, None)
        ratio = choice(body, "ratio", RATIOS, "adaptive")
        if not frames and not refs and ratio == "adaptive":
            raise rule("ratio", "text-to-video needs a ratio other than adaptive")
        if body.get("callback_url") is not None and not isinstance(body["callback_url"], str):
            raise InvalidParams("callback_url", "type", "must be a string")
        flag(body, "aigc_watermark")
        # With a frame the ratio is ignored: the frame shapes the video (16:9 for a URL);
        # without, the ratio does (16:9 for adaptive with references, UNVERIFIED).
        first = frames.get("first_frame") or frames.get("last_frame")  # also what is drawn
        aspect = first.aspect if first else aspect_of(ratio)
        width, height = frame_size(resolution, aspect)
        echo = {
            "resolution": resolution,
            "duration": duration,
            "ratio": ratio,
            "input_image_count": sum(role.endswith(("frame", "image")) for role, _ in items),
        }
        spec = VideoSpec(width, height, duration, audio=True)  # H3 always has sound
        return Order(model_id, prompt, spec, echo=echo, first_frame=first)

    return check


def _required(
    body: Mapping[str, object], field: str, allowed: tuple[T, ...], default: T | None
) -> T:
    if body.get(field) is None:
        if default is None:
            raise InvalidParams(field, "required", "is required")
        return default
    return choice(body, field, allowed, allowed[0])


def _content(value: object) -> tuple[str, list[tuple[str, FrameImage | None]]]:
    """The prompt, and each media item's role with its image (None for video and audio)."""
    if not isinstance(value, list) or not value:
        raise InvalidParams("content", "required", "must be a non-empty array of items")
    texts: list[str] = []
    items: list[tuple[str, FrameImage | None]] = []
    images = sum(isinstance(item, dict) and item.get("type") == "image_url" for item in value)
    for index, item in enumerate(value):
        where = f"content[{index}]"
        if not isinstance(item, dict):
            raise InvalidParams(where, "type", "must be an object")
        kind = item.get("type")
        if kind == "text":
            text = item.get("text")
            if not isinstance(text, str):
                raise InvalidParams(f"{where}.text", "type", "must be a string")
            texts.append(text)
        elif kind == "image_url":
            role = item.get("role") or ("first_frame" if images == 1 else None)
            if role not in IMAGE_ROLES:
                raise rule(f"{where}.role", f"must be one of {', '.join(IMAGE_ROLES)}")
            items.append((str(role), _image(item, where)))
        elif kind in MEDIA_ROLE:
            if item.get("role") != MEDIA_ROLE[kind]:
                raise rule(f"{where}.role", f"must be {MEDIA_ROLE[kind]}")
            _url(item, str(kind), where)
            items.append((MEDIA_ROLE[kind], None))
        else:
            raise InvalidParams(
                f"{where}.type", "enum", "must be text, image_url, video_url or audio_url"
            )
    filled = [text for text in texts if text.strip()]
    if len(filled) != 1 or len(texts) != 1:
        raise rule(
            "content", "content must include exactly one non-empty text item (prompt is required)"
        )
    if len(filled[0]) > MAX_TEXT:
        raise InvalidParams("content.text", "too_long", f"must be at most {MAX_TEXT} characters")
    _count(items)
    return filled[0], items


def _count(items: list[tuple[str, FrameImage | None]]) -> None:
    roles = [role for role, _ in items]
    for role in ("first_frame", "last_frame"):
        if roles.count(role) > 1:
            raise rule("content", f"at most one {role}")
    for role, most in MAX_REFERENCES.items():
        if roles.count(role) > most:
            raise rule("content", f"at most {most} {role} items")
    if sum(role.startswith("reference_") for role in roles) > MAX_REFERENCES_TOTAL:
        raise rule("content", f"at most {MAX_REFERENCES_TOTAL} reference items in all")
    if "reference_audio" in roles and not {"reference_image", "reference_video"} & set(roles):
        raise rule("content", "reference audio needs a reference image or video")


def _url(item: Mapping[str, object], kind: str, where: str) -> str:
    holder = item.get(kind)
    url = holder.get("url") if isinstance(holder, dict) else None
    if not isinstance(url, str) or not url:
        raise InvalidParams(f"{where}.{kind}.url", "required", "is required")
    return url


def _image(item: Mapping[str, object], where: str) -> FrameImage | None:
    url = _url(item, "image_url", where)
    return read_image(url, f"{where}.image_url.url", formats=FORMATS, limits=IMAGE_LIMITS)


def submitter(models: tuple[str, ...]) -> Callable[[web.Request], Awaitable[web.Response]]:
    check = checker(models)

    async def submit(request: web.Request) -> web.Response:
        ctx = request.app[CONTEXT]
        accepted = await ctx.accept(request, check, lambda _order: ctx.digits())
        if isinstance(accepted, web.Response):
            return accepted
        return answer({"task_id": accepted.id})

    return submit


async def poll(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    task_id = request.match_info["task_id"]
    found = ctx.lookup(request, task_id, "polls")
    if isinstance(found, web.Response):
        return found
    if not is_v2_task(found):
        return ctx.refuse(request, Refusal("not-found", f"task_id {task_id!r} not found"))
    now = ctx.board.now()
    progress = found.at(now)
    task: dict[str, object] = {
        "id": found.id,
        "model": found.model,
        "status": STATUS[progress.phase],
        "created_at": int(ctx.board.epoch(found.created)),
        "updated_at": int(ctx.board.epoch(progress.changed)),
        **{key: found.echo[key] for key in ("resolution", "duration", "ratio")},
        "usage": {},
        "task_type": "generation",
        "modality": "video",
    }
    if progress.phase == "succeeded":
        link = ctx.mint(found)
        day = time.strftime("%Y-%m-%d", time.gmtime(ctx.board.epoch(found.ends)))
        path = f"/{ctx.name}/cdn/inference_output/rollout/{day}/{link.token}/output.mp4"
        task["content"] = {"url": f"{request.url.origin()}{path}"}
        seconds = found.echo["duration"]
        task["usage"] = {
            "total_seconds": seconds,
            "input_seconds": 0,
            "output_seconds": seconds,
            "input_image_count": found.echo["input_image_count"],
        }
    if progress.phase == "failed":
        task["error"] = FAILURE
    return answer({"task": task})
