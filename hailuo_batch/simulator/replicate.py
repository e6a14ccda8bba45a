"""Replicate's predictions API for the MiniMax models it hosts, simulated. Network I/O.

Under `/replicate` (docs/providers/replicate.md; replicate/replicate-python@0110c2c):

    POST /v1/models/minimax/{name}/predictions   {"input": {...}, "webhook"?, ...} -> 201
         for hailuo-02, hailuo-2.3, video-01, video-01-director and video-01-live
    GET  /v1/predictions/{id}                    the prediction
    POST /v1/predictions/{id}/cancel             the prediction, canceled unless it had ended
    GET  /delivery/xezq/{token}/output.mp4       the video, as replicate.delivery serves it

A prediction is `{id, model, version: "hidden", input, logs, output, data_removed, error,
status, created_at, started_at?, completed_at?, metrics?, urls{get, cancel}}` whose status
goes starting -> processing -> succeeded | failed (or canceled); `output` is the video's URL,
one URI as every version page's output schema says. `url_ttl` after it ends, its input,
output and logs are removed (`data_removed: true`) and the video's link dies with them.
`aborted` is never shown: `Cancel-After` is not simulated, and replicate-python 1.0.7 cannot
read that status. Cancellations are kept in memory only, not in the state file.

Sync mode (replicate.com/docs/topics/predictions/create-a-prediction): `Prefer: wait` or
`Prefer: wait=N` (1..60) holds the create up to 60 (or N) seconds. A prediction that ended
by then is answered 201 as it ended; otherwise 202 as `starting`, the state in which
replicate-python's `run()` knows to poll ("If request exceeds the wait time ... the
prediction will be in a 'starting' state"). Either way `Location` names its URL. Without
the header the answer is 201 `starting`.

Input checks follow the version pages: a prompt; `duration` 6|10 and a lower-case
`resolution` where the model has them (Hailuo-02 512p|768p|1080p, default 1080p; 2.3
768p|1080p, default 768p), 10 s at 768p only; video-01's `subject_reference`;
video-01-live needs `first_frame_image`; images are URLs or data URIs. Unknown top-level
keys are refused (changelog 2024-05-01); unknown keys inside `input` are let through.
Refusals are RFC 7807 problems: 422 `{title, detail, status, invalid_fields: [{type,
field, description}]}` (the item shape and the types `required` and
`additional_property_not_allowed` from that changelog), 401 "Unauthenticated" (as
Replicate's maintainers quote it), 429 `{"detail": "Request was throttled. ..."}`.
UNVERIFIED, so chosen here: the 2000-character prompt limit is MiniMax's (no Replicate
schema states one); whether a cross-field rule (10 s at 768p only) is refused at create or
fails the prediction (both refused with 422); the 402 answer to a lack of credit; the
wording of 404 and 5xx problems; the `invalid_fields` types beyond the two documented
(gojsonschema's names, which those two match).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

import orjson
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
from hailuo_batch.simulator.params import (
    MAX_PROMPT,
    InvalidParams,
    Problem,
    choice,
    flag,
    rule,
    text,
)
from hailuo_batch.simulator.tasks import Phase, Task
from hailuo_batch.simulator.video import VideoSpec, frame_size


@dataclass(frozen=True, slots=True)
class Schema:
    """What one model's `input` takes, as its version page lists it."""

    resolutions: tuple[str, ...] = ()  # empty: no duration or resolution (6 s at 720p)
    default_resolution: str = "720p"
    last_frame: bool = False
    subject: bool = False
    needs_image: bool = False


SCHEMA_BY_MODEL = {
    "hailuo-02": Schema(("512p", "768p", "1080p"), "1080p", last_frame=True),  # c43b610e
    "hailuo-2.3": Schema(("768p", "1080p"), "768p"),  # 23a02633
    "video-01": Schema(subject=True),  # c8bcc475
    "video-01-director": Schema(),  # 455972c1
    "video-01-live": Schema(needs_image=True),  # third-party copies of its page (M)
}
TOP_LEVEL = frozenset({"input", "stream", "webhook", "webhook_completed", "webhook_events_filter"})
STATUS: dict[Phase, str] = {
    "queued": "starting",
    "running": "processing",
    "succeeded": "succeeded",
    "failed": "failed",
}
FAILURE = "Prediction failed: the upstream video generation task failed"
MAX_WAIT = 60
HOLD_STEP = 0.25  # how often a held create looks again (a manual clock may have moved)
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base 32, as ids look
_REFUSALS: dict[RefusalKind, tuple[int, str, str]] = {
    "missing-key": (401, "Unauthenticated", "You did not pass an authentication token"),
    "bad-key": (401, "Unauthenticated", "You did not pass a valid authentication token"),
    "balance": (
        402,
        "Insufficient credit",
        "You have insufficient credit to run this model. Go to "
        "https://replicate.com/account/billing#billing to purchase credit.",
    ),
    "down": (503, "Service Unavailable", "The service is temporarily unavailable."),
    "rate-limit": (429, "", "Request was throttled. Your rate limit resets in ~30s."),
    "server-error": (500, "Internal Server Error", "Something went wrong on our end."),
    "not-found": (404, "Not found", "The requested resource could not be found."),
    "invalid": (422, "Input validation failed", ""),
}
_FIELD_TYPE: dict[Problem, str] = {
    "required": "required",
    "unknown": "additional_property_not_allowed",
    "type": "invalid_type",
    "enum": "enum",
    "too_long": "string_lte",
    "too_short": "string_gte",
    "rule": "invalid",
}
_JSON_TYPE = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}
CANCELED = web.AppKey("hailuo_batch.simulator.replicate.canceled", dict[str, float])
"""When each canceled prediction was canceled (clock seconds)."""


def build(name: str, shared: Shared) -> web.Application:
    app = web.Application()
    app[CONTEXT] = ProviderContext(name, shared, render)
    app[CANCELED] = {}
    app.router.add_post("/v1/models/minimax/{model}/predictions", submit, name="submit")
    app.router.add_get("/v1/predictions/{prediction_id}", poll, name="poll")
    app.router.add_post("/v1/predictions/{prediction_id}/cancel", cancel, name="cancel")
    app.router.add_get(
        "/delivery/xezq/{token}/output.mp4", download, name="download", allow_head=False
    )
    return app


def render(refusal: Refusal, request: web.Request) -> web.Response:
    kind = "down" if refusal.kind == "server-error" and refusal.status == 503 else refusal.kind
    status, title, detail = _REFUSALS[kind]
    if kind == "rate-limit":  # the rate-limit page shows this body alone
        return answer({"detail": detail}, status)
    problem: dict[str, object] = {"title": title, "detail": refusal.message or detail}
    if refusal.problem is not None:
        field = invalid_field(refusal.problem)
        where = f"{field['field']}: " if field["field"] else ""
        problem = {**problem, "detail": f"- {where}{field['description']}"}
        problem["invalid_fields"] = [field]
    return answer({**problem, "status": status}, status)


def invalid_field(problem: InvalidParams) -> dict[str, str]:
    """An `invalid_fields` item. A missing or unknown key is named by its parent (`""` for
    the top level, as the changelog shows), any other problem by its own path."""
    name = problem.field
    top = name in TOP_LEVEL or problem.problem == "unknown"
    if problem.problem in ("required", "unknown"):
        at = "" if top else "input"
    else:
        at = name if top else f"input.{name}"
    return {"type": _FIELD_TYPE[problem.problem], "field": at, "description": _described(problem)}


def _described(problem: InvalidParams) -> str:
    """The problem as gojsonschema words its errors."""
    match problem.problem:
        case "required":
            return f"{problem.field} is required"
        case "enum":
            allowed = ", ".join(orjson.dumps(option).decode() for option in problem.expected)
            return f"{problem.field} must be one of the following: {allowed}"
        case "type":
            given = _JSON_TYPE.get(type(problem.received), "object")
            return f"Invalid type. Expected: {problem.expected[0]}, given: {given}"
        case "too_long":
            return f"String length must be less than or equal to {MAX_PROMPT}"
        case "too_short":
            return "String length must be greater than or equal to 1"
        case _:
            return problem.reason


def _image(body: Mapping[str, object], field: str) -> FrameImage | None:
    if body.get(field) is None:
        return None
    return read_image(body[field], field, formats=JPEG_PNG_WEBP)


def check(model: str, body: Mapping[str, object]) -> Order:
    """The create body of `minimax/<model>`, read as that model's version page says."""
    for key in body:
        if key not in TOP_LEVEL:
            raise InvalidParams(key, "unknown", f"Additional property {key} is not allowed")
    fields = body.get("input")
    if fields is None:
        raise InvalidParams("input", "required", "input is required")
    if not isinstance(fields, dict):
        raise InvalidParams(
            "input", "type", "must be an object", expected=("object",), received=fields
        )
    schema = SCHEMA_BY_MODEL[model]
    prompt = text(fields, "prompt", required=True) or ""
    first = _image(fields, "first_frame_image")
    if schema.needs_image and first is None:
        raise InvalidParams("first_frame_image", "required", "first_frame_image is required")
    if schema.last_frame:
        _image(fields, "last_frame_image")
    if schema.subject:
        _image(fields, "subject_reference")
    flag(fields, "prompt_optimizer")
    duration, resolution = 6, schema.default_resolution
    if schema.resolutions:
        duration = choice(fields, "duration", (6, 10), 6)
        resolution = choice(fields, "resolution", schema.resolutions, schema.default_resolution)
        if duration == 10 and resolution != "768p":
            raise rule("duration", "10 seconds is only available for 768p resolution")
    width, height = frame_size(resolution.upper(), first.aspect if first else None)
    spec = VideoSpec(width, height, duration)
    return Order(f"minimax/{model}", prompt, spec, echo=fields, first_frame=first)


async def submit(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    model = request.match_info["model"]
    if model not in SCHEMA_BY_MODEL:
        refusal = ctx.authorize(request) or Refusal("not-found", f"Model minimax/{model} not found")
        return ctx.refuse(request, refusal)
    accepted = await ctx.accept(
        request, lambda body: check(model, body), lambda _order: prediction_id(ctx)
    )
    if isinstance(accepted, web.Response):
        return accepted
    wait = wait_seconds(request.headers.get("Prefer", ""))
    if wait is None:
        return answer(starting(prediction(request, accepted)), 201)
    await _hold(ctx, accepted, wait)
    shown = prediction(request, accepted)
    ended = ctx.board.now() >= accepted.ends
    response = answer(shown if ended else starting(shown), 201 if ended else 202)
    response.headers["Location"] = prediction_url(request, accepted)
    return response


def starting(shown: Mapping[str, object]) -> dict[str, object]:
    """A prediction not yet ended as a create answers it: `starting`, not started."""
    return {**{k: v for k, v in shown.items() if k != "started_at"}, "status": "starting"}


def wait_seconds(prefer: str) -> float | None:
    """The seconds a `Prefer: wait[=N]` header asks to hold (N within 1..60), else None."""
    for preference in prefer.split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() != "wait":
            continue
        seconds = value.strip()
        if not seconds:
            return MAX_WAIT
        return float(seconds) if seconds.isdigit() and 1 <= int(seconds) <= MAX_WAIT else None
    return None


async def _hold(ctx: ProviderContext, task: Task, seconds: float) -> None:
    """Wait until the task ends or `seconds` (real time) pass, whichever comes first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := task.ends - ctx.board.now()) > 0 and deadline > loop.time():
        await asyncio.sleep(min(left, deadline - loop.time(), HOLD_STEP))


def prediction_id(ctx: ProviderContext) -> str:
    return "".join(ctx.ids.choice(_ID_ALPHABET) for _ in range(26))


async def poll(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    found = ctx.lookup(request, request.match_info["prediction_id"], "polls")
    if isinstance(found, web.Response):
        return found
    return answer(prediction(request, found))


async def cancel(request: web.Request) -> web.Response:
    """Cancel a prediction still starting or processing; an ended one stays as it ended."""
    ctx = request.app[CONTEXT]
    found = ctx.lookup(request, request.match_info["prediction_id"], "cancels")
    if isinstance(found, web.Response):
        return found
    now = ctx.board.now()
    if now < found.ends:
        request.app[CANCELED].setdefault(found.id, now)
    return answer(prediction(request, found))


def prediction(request: web.Request, task: Task) -> dict[str, object]:
    """The prediction object as `GET /v1/predictions/{id}` shows it now."""
    ctx = request.app[CONTEXT]
    now = ctx.board.now()
    status, ended = _status(task, now, request.app[CANCELED].get(task.id))
    removed = ended is not None and now >= ended + ctx.config.url_ttl
    url = prediction_url(request, task)
    body: dict[str, object] = {
        "id": task.id,
        "model": task.model,
        "version": "hidden",  # official models hide their version
        "input": None if removed else dict(task.echo),
        "logs": None if removed else "",
        "output": None,
        "data_removed": removed,
        "error": FAILURE if status == "failed" else None,
        "status": status,
        "created_at": _stamp(ctx, task.created),
        "urls": {"cancel": f"{url}/cancel", "get": url},
    }
    started = now >= task.starts and (ended is None or ended >= task.starts)
    if started:
        body["started_at"] = _stamp(ctx, task.starts)
    if ended is not None:
        body["completed_at"] = _stamp(ctx, ended)
        metrics = {"total_time": round(ended - task.created, 3)}
        if started:
            metrics["predict_time"] = round(ended - task.starts, 3)
        body["metrics"] = metrics
    if status == "succeeded" and not removed and ended is not None:
        link = ctx.mint(task, ended + ctx.config.url_ttl - now)
        body["output"] = f"{request.url.origin()}/{ctx.name}/delivery/xezq/{link.token}/output.mp4"
    return body


def _status(task: Task, now: float, canceled: float | None) -> tuple[str, float | None]:
    """The prediction's status now, and when it ended (None while it has not)."""
    if canceled is not None:
        return "canceled", canceled
    return STATUS[task.at(now).phase], task.ends if now >= task.ends else None


def prediction_url(request: web.Request, task: Task) -> str:
    """`urls.get`: where the prediction is read."""
    return f"{request.url.origin()}/{request.app[CONTEXT].name}/v1/predictions/{task.id}"


def _stamp(ctx: ProviderContext, at: float) -> str:
    """ISO 8601 in UTC with milliseconds, as `2025-07-30T01:38:07.143Z`."""
    epoch = ctx.board.epoch(at)
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"
    )
