"""fal.ai's queue for MiniMax's video models, simulated. Network I/O.

Under `/fal` (fal's `https://queue.fal.run`), for the endpoints in `ENDPOINTS`:

    POST /fal-ai/minimax/<endpoint>             the model input: 200 {request_id, response_url,
                                                status_url, cancel_url, status, queue_position}
    GET  /fal-ai/minimax/requests/{id}/status   IN_QUEUE + queue_position, IN_PROGRESS + logs
                                                (202); COMPLETED + logs, metrics (200)
    GET  /fal-ai/minimax/requests/{id}          the result {"video": File}, or the error
    PUT  /fal-ai/minimax/requests/{id}/cancel   202 {"status": "CANCELLATION_REQUESTED"}
    GET  /files/{bucket}/{token}/output.mp4     the video, as on fal's CDN (lives 7 days)

Sources (docs/providers/fal.md): the queue and inference API pages (routes, the 202/200
statuses, URLs naming only owner and app); fal-js endpoint types (each endpoint's fields:
`duration` the string "6" or "10", `resolution` on Hailuo-02's standard image-to-video
only); fal-client (`Authorization: Key`, the status fields it requires, absolute URLs used
verbatim, an ingress fault is nginx's page). The queue takes any JSON object: the runner
checks the input, and a request it refuses ends COMPLETED, its result GET answering 422
`{"detail": [{loc, msg, type, url}]}` (model errors page; TanStack/ai#396 saw the order
live). A failed generation ends COMPLETED with `error`/`error_type`, its result answering
500 `runner_server_error` (request errors page). Refusals: 401 "No user found for Key ID
and Secret" and 403 "User is locked. Reason: Exhausted balance ..." (fal-ai/fal#1068,
#1147); a service down is nginx's 503 page.

UNVERIFIED, chosen here: the 2000-character prompt limit and frame limits (MiniMax's own),
the wording of 422 messages (pydantic's), the 404 body of an unknown request, the 400 of a
result asked for too early, cancel's 400 and 404 and a cancelled request's 499
`client_cancelled` result; fields an endpoint does not list are ignored. Cancellations are
kept in memory only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

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
from hailuo_batch.simulator.images import JPEG_PNG_WEBP, FrameImage, read_image
from hailuo_batch.simulator.params import InvalidParams, Problem, choice, flag, text
from hailuo_batch.simulator.tasks import Task
from hailuo_batch.simulator.video import VideoSpec, frame_size

APP = "fal-ai/minimax"
MEDIA_SECONDS = 7 * 86400.0  # "guaranteed to be available for at least 7 days" (FAQ)
BUCKET = "zebra"  # fal's CDN paths read files/<animal>/<id>/<name> (the queue docs' example)
CANCELLED = web.AppKey("hailuo_batch.simulator.fal.cancelled", set[str])


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One endpoint's input schema and what it makes."""

    resolutions: tuple[str, ...]  # the first is the default; more than one: a `resolution` field
    duration: bool = False  # a `duration` field, "6" or "10"; without it, 6 s
    image: str | None = None  # its required image field
    end_image: bool = False  # an optional `end_image_url`


_STD_T2V = Endpoint(("768P",), duration=True)
_STD_I2V = Endpoint(("768P",), duration=True, image="image_url")
_PRO_T2V = Endpoint(("1080P",))
_PRO_I2V = Endpoint(("1080P",), image="image_url")
_T2V_01 = Endpoint(("720P",))
_I2V_01 = Endpoint(("720P",), image="image_url")
ENDPOINTS: dict[str, Endpoint] = {
    "hailuo-02/standard/text-to-video": _STD_T2V,
    "hailuo-02/standard/image-to-video": Endpoint(
        ("768P", "512P"), duration=True, image="image_url", end_image=True
    ),
    "hailuo-02/pro/text-to-video": _PRO_T2V,
    "hailuo-02/pro/image-to-video": Endpoint(("1080P",), image="image_url", end_image=True),
    "hailuo-2.3/standard/text-to-video": _STD_T2V,
    "hailuo-2.3/standard/image-to-video": _STD_I2V,
    "hailuo-2.3/pro/text-to-video": _PRO_T2V,
    "hailuo-2.3/pro/image-to-video": _PRO_I2V,
    "hailuo-2.3-fast/standard/image-to-video": _STD_I2V,
    "hailuo-2.3-fast/pro/image-to-video": _PRO_I2V,
    "video-01": _T2V_01,
    "video-01/image-to-video": _I2V_01,
    "video-01-director": _T2V_01,
    "video-01-director/image-to-video": _I2V_01,
    "video-01-live/image-to-video": _I2V_01,
    "video-01-subject-reference": Endpoint(("720P",), image="subject_reference_image_url"),
}

_NGINX_503 = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>"
)
_REFUSALS: dict[RefusalKind, tuple[int, str]] = {
    "missing-key": (401, "Unauthorized"),
    "bad-key": (401, "No user found for Key ID and Secret"),
    "balance": (
        403,
        "User is locked. Reason: Exhausted balance. Top up your balance at "
        "fal.ai/dashboard/billing.",
    ),
    "rate-limit": (429, "Too many requests"),
    "server-error": (500, "An unexpected internal error occurred."),
    "not-found": (404, "Request not found"),
}
MISSING = _REFUSALS["not-found"][1]
# pydantic's error types, which fal's model errors follow
_ERROR_TYPE: dict[Problem, str] = {
    "required": "missing",
    "type": "type_error",
    "enum": "literal_error",
    "too_long": "string_too_long",
    "too_short": "string_too_short",
    "rule": "value_error",
}
FAILURE = "The runner encountered an internal server error."
CANCELLATION = "The request was cancelled by the client."


def build(name: str, shared: Shared) -> web.Application:
    app = web.Application()
    app[CONTEXT] = ProviderContext(name, shared, render, scheme="Key")
    app[CANCELLED] = set()
    requests = f"/{APP}/requests/{{request_id}}"
    app.router.add_post(f"/{APP}/{{endpoint:.+}}", submit, name="submit")
    app.router.add_get(f"{requests}/status", status, name="poll")
    app.router.add_get(requests, result, name="retrieve")
    app.router.add_put(f"{requests}/cancel", cancel, name="cancel")
    app.router.add_get(
        "/files/{bucket}/{token}/output.mp4", download, name="download", allow_head=False
    )
    return app


def render(refusal: Refusal, request: web.Request) -> web.Response:
    """fal's envelopes: `{"detail": text}`, a 422's list of model errors, or nginx's page."""
    if refusal.kind == "down" or (refusal.kind == "server-error" and refusal.status == 503):
        return web.Response(status=503, text=_NGINX_503, content_type="text/html")
    if refusal.kind == "invalid":
        # a body that is no JSON object: a general error is located at ["body"]
        error = model_error(refusal.problem) if refusal.problem else _body_error(refusal.message)
        return answer({"detail": [error]}, 422)
    status, detail = _REFUSALS[refusal.kind]
    if refusal.kind == "server-error":
        return request_error(refusal.status, detail, "internal_error")
    return answer({"detail": refusal.message or detail}, status)


def model_error(problem: InvalidParams) -> dict[str, object]:
    """One entry of a 422's `detail`, as fal's model errors page draws it."""
    return _error(["body", problem.field], problem.reason, _ERROR_TYPE[problem.problem])


def _body_error(message: str) -> dict[str, object]:
    return _error(["body"], message, _ERROR_TYPE["rule"])


def _error(loc: list[str], message: str, kind: str) -> dict[str, object]:
    return {"loc": loc, "msg": message, "type": kind, "url": f"https://docs.fal.ai/errors/#{kind}"}


def request_error(status: int, detail: str, error_type: str) -> web.Response:
    """A request error: `{detail, error_type}`, the type also in `X-Fal-Error-Type`."""
    response = answer({"detail": detail, "error_type": error_type}, status)
    response.headers["X-Fal-Error-Type"] = error_type
    return response


def check(endpoint: Endpoint, model_id: str, body: Mapping[str, object]) -> Order:
    """The order the runner will work on; input it refuses is kept as the 422 it will give."""
    try:
        return _order(endpoint, model_id, body)
    except InvalidParams as problem:
        prompt = body.get("prompt")
        width, height = frame_size(endpoint.resolutions[0], None)
        return Order(
            model_id,
            prompt if isinstance(prompt, str) else "",
            VideoSpec(width, height, 6),
            echo={"detail": [model_error(problem)]},
        )


def _order(endpoint: Endpoint, model_id: str, body: Mapping[str, object]) -> Order:
    prompt = text(body, "prompt", required=True) or ""
    first: FrameImage | None = None
    if endpoint.image is not None:
        if body.get(endpoint.image) is None:
            raise InvalidParams(endpoint.image, "required", "Field required")
        image = read_image(body[endpoint.image], endpoint.image, formats=JPEG_PNG_WEBP)
        first = image if endpoint.image == "image_url" else None  # a subject is no frame
    if endpoint.end_image and body.get("end_image_url") is not None:
        read_image(body["end_image_url"], "end_image_url", formats=JPEG_PNG_WEBP)
    duration = int(choice(body, "duration", ("6", "10"), "6")) if endpoint.duration else 6
    resolution = endpoint.resolutions[0]
    if len(endpoint.resolutions) > 1:
        resolution = choice(body, "resolution", endpoint.resolutions, resolution)
    flag(body, "prompt_optimizer")
    width, height = frame_size(resolution, first.aspect if first else None)
    return Order(model_id, prompt, VideoSpec(width, height, duration), first_frame=first)


async def submit(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    path = request.match_info["endpoint"]
    endpoint = ENDPOINTS.get(path)
    if endpoint is None:
        return ctx.refuse(request, Refusal("not-found", f"Application '{path}' not found"))
    model_id = f"{APP}/{path}"
    accepted = await ctx.accept(
        request, lambda body: check(endpoint, model_id, body), lambda _order: ctx.uuid()
    )
    if isinstance(accepted, web.Response):
        return accepted
    urls = _urls(request, ctx, accepted.id)
    position = _queue_position(ctx, accepted)
    return answer(
        {"request_id": accepted.id, **urls, "status": "IN_QUEUE", "queue_position": position}
    )


def _urls(request: web.Request, ctx: ProviderContext, request_id: str) -> dict[str, str]:
    """Absolute, naming only owner and app: fal-client follows them as they are."""
    base = f"{request.url.origin()}/{ctx.name}/{APP}/requests/{request_id}"
    return {"response_url": base, "status_url": f"{base}/status", "cancel_url": f"{base}/cancel"}


def _queue_position(ctx: ProviderContext, task: Task) -> int:
    """How many requests wait ahead of this one (first come, first served)."""
    now = ctx.board.now()
    return sum(1 for other in ctx.board.newest_first() if now < other.starts < task.starts)


def _finished(request: web.Request, task: Task, now: float) -> bool:
    return task.at(now).finished or task.id in request.app[CANCELLED]


async def status(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    found = ctx.lookup(request, request.match_info["request_id"], "polls", missing=MISSING)
    if isinstance(found, web.Response):
        return found
    now = ctx.board.now()
    response_url = _urls(request, ctx, found.id)["response_url"]
    wants_logs = request.query.get("logs", "").lower() in ("1", "true")
    logs = _logs(ctx, found, now) if wants_logs else None
    if not _finished(request, found, now):
        if found.at(now).phase == "queued":
            position = _queue_position(ctx, found)
            body = {"status": "IN_QUEUE", "queue_position": position, "response_url": response_url}
            return answer(body, 202)
        return answer({"status": "IN_PROGRESS", "logs": logs, "response_url": response_url}, 202)
    completed: dict[str, object] = {"status": "COMPLETED", "logs": logs, "metrics": {}}
    if found.id in request.app[CANCELLED]:
        completed.update(error=CANCELLATION, error_type="client_cancelled")
    else:
        completed["metrics"] = {"inference_time": round(found.ends - found.starts, 3)}
        if found.fails:
            completed.update(error=FAILURE, error_type="runner_server_error")
    return answer({**completed, "response_url": response_url})


def _logs(ctx: ProviderContext, task: Task, now: float) -> list[dict[str, str]]:
    """The runner's log lines so far (`?logs=1`): one as it starts, one as it ends."""
    lines = [(task.starts, "Generating video")] if now >= task.starts else []
    if task.at(now).finished:
        lines.append((task.ends, "Generation failed" if task.fails else "Video ready"))
    return [
        {"message": message, "level": "INFO", "source": "user", "timestamp": _iso(ctx, at)}
        for at, message in lines
    ]


def _iso(ctx: ProviderContext, at: float) -> str:
    return datetime.fromtimestamp(ctx.board.epoch(at), timezone.utc).isoformat()


async def result(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    found = ctx.lookup(request, request.match_info["request_id"], "retrieves", missing=MISSING)
    if isinstance(found, web.Response):
        return found
    if not _finished(request, found, ctx.board.now()):
        return answer({"detail": "Request is still in progress"}, 400)
    if found.id in request.app[CANCELLED]:
        return request_error(499, CANCELLATION, "client_cancelled")
    if "detail" in found.echo:
        response = answer({"detail": found.echo["detail"]}, 422)
        response.headers["X-Fal-Retryable"] = "false"
        return response
    if found.fails:
        return request_error(500, FAILURE, "runner_server_error")
    link = ctx.mint(found, MEDIA_SECONDS)
    url = f"{request.url.origin()}/{ctx.name}/files/{BUCKET}/{link.token}/output.mp4"
    return answer({"video": {"url": url, "content_type": "video/mp4", "file_name": "output.mp4"}})


async def cancel(request: web.Request) -> web.Response:
    """A queued request is removed; one in progress is signalled, and Hailuo's app goes on
    (how a model app handles it is its own choice: cancel page)."""
    ctx = request.app[CONTEXT]
    refusal = ctx.authorize(request)
    if refusal is not None:
        return ctx.refuse(request, refusal)
    task = ctx.board.get(request.match_info["request_id"])
    if task is None:
        return answer({"status": "NOT_FOUND"}, 404)
    ctx.asked(task.id)
    now = ctx.board.now()
    if _finished(request, task, now):
        return answer({"status": "ALREADY_COMPLETED"}, 400)
    if task.at(now).phase == "queued":
        request.app[CANCELLED].add(task.id)
    return answer({"status": "CANCELLATION_REQUESTED"}, 202)
