"""GMI Cloud's request-queue API for the Hailuo models and H3, simulated. Network I/O.

Under `/gmi/api/v1/ie/requestqueue/apikey` (docs/providers/gmi.md):

    POST /requests                  {"model", "payload": {prompt, first_frame_image, duration,
                                     resolution, prompt_optimizer, fast_pretreatment}}
                                    `MiniMax-H3`: a flat payload (`h3flat`): first/last frame,
                                    reference_images/videos/audios, duration, resolution, ratio
    GET  /requests/{request_id}     queued / dispatched / processing / success / failed
    GET  /requests?model_id=        {"requests": [...], "total": N}
    GET  /models                    {"models": [...], "model_ids": [...]} (SDK and docs differ)
    GET  /models/{model_id}         the gmicloud SDK's `GetModelResponse`: `model`,
                                    `parameters`, `price_info{price, pricing_type, unit}`, ...

Videos are under `/gmi/storage/...` behind GCS-style V4 signed URLs. Timestamps are integer
Unix seconds; errors are `{"error": "..."}` with a non-2xx status, always JSON.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace

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
from hailuo_batch.simulator.h3flat import RATIOS, H3Fields, check_h3
from hailuo_batch.simulator.images import JPEG_PNG, FrameImage, read_image
from hailuo_batch.simulator.links import Link
from hailuo_batch.simulator.params import InvalidParams, choice, flag, rule, text
from hailuo_batch.simulator.tasks import Task
from hailuo_batch.simulator.video import VideoSpec, frame_size

BASE = "/api/v1/ie/requestqueue/apikey"
HAILUO = ("Minimax-Hailuo-02", "Minimax-Hailuo-2.3", "Minimax-Hailuo-2.3-Fast")
H3 = "MiniMax-H3"
MODELS = (*HAILUO, H3)
IMAGE_ONLY = ("Minimax-Hailuo-2.3-Fast",)
H3_FIELDS = H3Fields(
    first="first_frame_image",
    last="last_frame_image",
    images="reference_images",
    videos="reference_videos",
    audios="reference_audios",
    resolutions=("768P", "2K"),  # GMI's default is undocumented: 768P here
)
ORG_ID = "5b0c6a2e-93d4-4f1e-8a57-c2d9e0f1a3b4"
FAILURE = "generation failed: worker error, please retry"
_REFUSALS: dict[RefusalKind, tuple[int, str]] = {
    "missing-key": (401, "missing or malformed Authorization header"),
    "bad-key": (401, "invalid api key"),
    "balance": (402, "insufficient balance"),
    "down": (503, "service unavailable"),
    "rate-limit": (429, "rate limit exceeded"),
    "server-error": (500, "internal server error"),
    "not-found": (404, "request not found"),
    "invalid": (400, "invalid request"),
}


def _parameter(name: str, kind: str, default: object, **more: object) -> dict[str, object]:
    return {"name": name, "type": kind, "required": name == "prompt", "default": default, **more}


HAILUO_PARAMETERS = [
    _parameter("prompt", "string", "", max_length=2000),
    _parameter("first_frame_image", "string", ""),
    _parameter("duration", "integer", 6, enum=[6, 10]),
    _parameter("resolution", "string", "768P", enum=["512P", "768P", "1080P"]),
    _parameter("prompt_optimizer", "boolean", True),
    _parameter("fast_pretreatment", "boolean", False),
]
H3_PARAMETERS = [
    _parameter("prompt", "string", "", max_length=7000),
    _parameter("first_frame_image", "string", ""),
    _parameter("last_frame_image", "string", ""),
    _parameter("reference_images", "array", [], max_items=9),
    _parameter("reference_videos", "array", [], max_items=3),
    _parameter("reference_audios", "array", [], max_items=3),
    _parameter("duration", "integer", 6, minimum=4, maximum=15),
    _parameter("resolution", "string", "768P", enum=list(H3_FIELDS.resolutions)),
    _parameter("ratio", "string", "adaptive", enum=list(RATIOS)),
]
# `price_info` as the SDK types it ({price: int, pricing_type: str, unit: str}). GMI's
# values and units are UNVERIFIED: these are placeholders (cents per video, per second).
PRICE_INFO = {
    "Minimax-Hailuo-02": {"price": 27, "pricing_type": "per_request", "unit": "video"},
    "Minimax-Hailuo-2.3": {"price": 28, "pricing_type": "per_request", "unit": "video"},
    "Minimax-Hailuo-2.3-Fast": {"price": 19, "pricing_type": "per_request", "unit": "video"},
    H3: {"price": 8, "pricing_type": "per_second", "unit": "second"},
}


def build(name: str, shared: Shared) -> web.Application:
    app = web.Application()
    app[CONTEXT] = ProviderContext(name, shared, render)
    app.router.add_post(f"{BASE}/requests", submit, name="submit")
    app.router.add_get(f"{BASE}/requests/{{request_id}}", poll, name="poll")
    app.router.add_get(f"{BASE}/requests", list_requests, name="list")
    app.router.add_get(f"{BASE}/models", list_models, name="models")
    app.router.add_get(f"{BASE}/models/{{model_id}}", model_info, name="models.one")
    app.router.add_get(
        "/storage/gmi-video-results/{token}/result.mp4",
        download,
        name="download",
        allow_head=False,
    )
    return app


def render(refusal: Refusal, request: web.Request) -> web.Response:
    status, message = _REFUSALS[refusal.kind]
    if refusal.kind == "server-error":
        status = refusal.status
        message = "service unavailable" if status == 503 else message
    return answer({"error": refusal.message or message}, status)


def _image(body: Mapping[str, object], field: str) -> FrameImage | None:
    if body.get(field) in (None, ""):  # the documented default is ""
        return None
    return read_image(body[field], field, formats=JPEG_PNG)


def check(body: Mapping[str, object]) -> Order:
    model = body.get("model")
    if not isinstance(model, str) or model not in MODELS:
        raise InvalidParams("model", "enum", f"model {model!r} not found", expected=MODELS)
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise InvalidParams("payload", "type", "payload must be an object")
    if model == H3:
        return replace(check_h3(payload, H3_FIELDS, H3), echo=payload)
    prompt = text(payload, "prompt", required=True) or ""
    first = _image(payload, "first_frame_image")
    if model in IMAGE_ONLY and first is None:
        raise rule("first_frame_image", f"{model} requires first_frame_image")
    duration = choice(payload, "duration", (6, 10), 6)
    # GMI's Hailuo-2.3 table lists 512P too (docs/providers/gmi.md §2): taken, as documented.
    resolution = choice(payload, "resolution", ("512P", "768P", "1080P"), "768P")
    if resolution == "512P" and first is None:
        raise rule("resolution", "512P requires first_frame_image")
    if resolution == "1080P" and duration != 6:
        raise rule("resolution", "10s videos support only 512P and 768P")
    flag(payload, "prompt_optimizer")
    flag(payload, "fast_pretreatment")
    width, height = frame_size(resolution, first.aspect if first else None)
    return Order(model, prompt, VideoSpec(width, height, duration), echo=payload, first_frame=first)


async def submit(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    accepted = await ctx.accept(request, check, lambda _order: ctx.uuid())
    if isinstance(accepted, web.Response):
        return accepted
    created = int(ctx.board.epoch(accepted.created))
    return answer(
        {
            "request_id": accepted.id,
            "model": accepted.model,
            "status": "queued",
            "created_at": created,
            "updated_at": created,
            "queued_at": created,
        }
    )


async def poll(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    found = ctx.lookup(request, request.match_info["request_id"], "polls")
    if isinstance(found, web.Response):
        return found
    return answer(detail(ctx, found, request))


def detail(ctx: ProviderContext, task: Task, request: web.Request) -> dict[str, object]:
    """A request as GET /requests/{id} shows it; `outcome` stays null until success."""
    now = ctx.board.now()
    progress = task.at(now)
    status = {"queued": "queued", "succeeded": "success", "failed": "failed"}.get(progress.phase)
    if status is None:  # running: dispatched to a worker, then processing
        dispatched = now - task.starts < 0.1 * (task.ends - task.starts)
        status = "dispatched" if dispatched else "processing"
    created = int(ctx.board.epoch(task.created))
    body: dict[str, object] = {
        "request_id": task.id,
        "org_id": ORG_ID,
        "model": task.model,
        "status": status,
        "is_public": False,
        "payload": task.echo,
        "outcome": None,
        "created_at": created,
        "updated_at": int(ctx.board.epoch(progress.changed)),
        "queued_at": created,
        "qworker_id": f"qworker-{int(task.id[:6], 16) % 97}" if now >= task.starts else "",
    }
    if status == "success":
        url = gcs_url(request, ctx.name, ctx.mint(task))
        body["outcome"] = {"media_urls": [{"id": "0", "url": url}], "thumbnail_image_url": ""}
    if status == "failed":
        body["error"] = FAILURE
    return body


def _authorized(ctx: ProviderContext, request: web.Request) -> web.Response | None:
    ctx.ledger.count(ctx.name, "lists")
    refusal = ctx.authorize(request)
    return None if refusal is None else ctx.refuse(request, refusal)


async def list_requests(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    refused = _authorized(ctx, request)
    if refused is not None:
        return refused
    model_id = request.query.get("model_id")
    tasks = [t for t in ctx.board.newest_first() if model_id in (None, t.model)]
    return answer({"requests": [detail(ctx, t, request) for t in tasks], "total": len(tasks)})


def _model(model_id: str) -> dict[str, object]:
    """A model as the gmicloud SDK reads it (`GetModelResponse`); `model_id` beside `model`
    is the name the API-key docs give it (the path, `model_ids`), for clients reading that."""
    kind = "image-to-video" if model_id in IMAGE_ONLY else "text-to-video, image-to-video"
    title = model_id.removeprefix("Minimax-").removeprefix("MiniMax-")
    return {
        "model": model_id,
        "model_id": model_id,
        "model_type": "video",
        "brief_description": f"MiniMax {title} video generation ({kind})",
        "detailed_description": "",
        "external_provider": "",  # the SDK's defaults where GMI's values are unknown
        "host_type": "",
        "modalities": {},
        "tags": [],
        "parameters": H3_PARAMETERS if model_id == H3 else HAILUO_PARAMETERS,
        "price_info": PRICE_INFO[model_id],
        "qworkers": 0,
        "org_id": "",
        "created_at": 0,
        "updated_at": 0,
    }


async def list_models(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    refused = _authorized(ctx, request)
    if refused is not None:
        return refused
    return answer({"models": [_model(m) for m in MODELS], "model_ids": list(MODELS)})


async def model_info(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    refused = _authorized(ctx, request)
    if refused is not None:
        return refused
    model_id = request.match_info["model_id"]
    if model_id not in MODELS:
        return ctx.refuse(request, Refusal("not-found", f"model {model_id!r} not found"))
    return answer(_model(model_id))


def gcs_url(request: web.Request, name: str, link: Link) -> str:
    """A Google Cloud Storage V4 signed URL: valid `X-Goog-Expires` s from `X-Goog-Date`."""
    issued = time.gmtime(link.issued_epoch)
    query = (
        "X-Goog-Algorithm=GOOG4-RSA-SHA256"
        "&X-Goog-Credential=simulator%40gmi-serving.iam.gserviceaccount.com%2F"
        f"{time.strftime('%Y%m%d', issued)}%2Fauto%2Fstorage%2Fgoog4_request"
        f"&X-Goog-Date={time.strftime('%Y%m%dT%H%M%SZ', issued)}"
        f"&X-Goog-Expires={link.expires_epoch - link.issued_epoch}"
        f"&X-Goog-SignedHeaders=host&X-Goog-Signature={link.signature}"
    )
    return (
        f"{request.url.origin()}/{name}/storage/gmi-video-results/{link.token}/result.mp4?{query}"
    )
