"""MiniMax's own video API: v1 (submit, query, files/retrieve) for Hailuo and the 01 family,
and its V2 wire (`minimax_v2`) for H3. No I/O.

docs/providers/minimax.md (and minimax-mcp): v1 errors come back as HTTP 200 with a
non-zero `base_resp.status_code`, so every v1 parse checks `base_resp` and never trusts
the HTTP code alone. A `Success` poll carries only a `file_id`: the URL takes a third call
(`finalizing` until then) and lives 1 hour. One endpoint serves every v1 model; which
fields a body may carry depends on the model (section 2.1): Hailuo models take a duration,
a resolution and `fast_pretreatment`; the 01 family takes neither (720P, 6 s fixed);
S2V-01 takes its character as `subject_reference`. The neutral `video-01` is sent as
T2V-01, or I2V-01 with a first frame: the id `video-01` is gone from the current enums.

H3 goes to the V2 wire, picked by model on submit, by task id (`v2:...`) on polls and by
the answering URL on parses. Neither API has a task list that can find a submit whose
reply was lost, so it is counted as a possible duplicate. Times are in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping

from hailuo_batch.core.http import HttpRequest, HttpResponse, SubmitImages, TaskState, TaskStatus
from hailuo_batch.core.jobs import Model, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers._adapter import (
    Adapter,
    as_id,
    as_number,
    as_object,
    as_text,
    dig,
    image_fields,
    loose_json,
    snippet,
    state_for,
)
from hailuo_batch.providers.base import kind_for_http_status
from hailuo_batch.providers.minimax_codes import KIND_BY_CODE, failure_for
from hailuo_batch.providers.minimax_v2 import MinimaxV2Adapter, is_v2_task

# The models whose body carries a duration, a resolution and `fast_pretreatment`.
_HAILUO: frozenset[Model] = frozenset({"hailuo-02", "hailuo-2.3", "hailuo-2.3-fast"})

# Query statuses are capitalised; callbacks use lower case and `failed`: fold and accept both.
_STATE_BY_STATUS: dict[str, TaskState] = {
    "preparing": "queued",
    "queueing": "queued",
    "processing": "running",
    "success": "finalizing",
    "fail": "failed",
    "failed": "failed",
}


class MinimaxAdapter(Adapter):
    """MiniMax official. v1: `task_id` in, `file_id` from the query, URL from files/retrieve;
    H3 through `MinimaxV2Adapter`."""

    PROVIDERS = frozenset({"minimax"})

    def __init__(self, name: str, api_key: str, base_url: str | None = None) -> None:
        super().__init__(name, api_key, base_url)
        self._v2 = MinimaxV2Adapter(name, api_key, base_url, fallback=self._classify_v1)

    def submit_request(self, request: VideoRequest, images: SubmitImages) -> HttpRequest:
        if request.model == "h3":
            return self._v2.submit_request(request, images)
        self._refuse_unsold(request, images)
        model = _v1_model(request.model, images)
        problem = _fieldless(model, images)
        if problem:
            raise ProviderError("invalid_input", self.name, f"{request.model} {problem}")
        body: dict[str, object] = {"model": self.capabilities.offers[model].wire}
        if request.prompt:  # optional where an image leads (I2V, FL2V, S2V)
            body["prompt"] = request.prompt
        body.update(image_fields(images, "first_frame_image", "last_frame_image"))
        if images.subject:
            body["subject_reference"] = [{"type": "character", "image": [images.subject]}]
        body["prompt_optimizer"] = request.prompt_optimizer
        if model in _HAILUO:
            body["duration"] = request.duration
            body["resolution"] = request.resolution
            body["fast_pretreatment"] = request.fast_pretreatment
        return self._post("/v1/video_generation", body)

    def parse_submit(self, response: HttpResponse) -> str:
        if self._v2.answered(response):
            return self._v2.parse_submit(response)
        body = self._ok_json(response)
        self._raise_unless_ok(response, body)
        task_id = as_id(body.get("task_id"))
        if not task_id:
            raise self._error(response, "submit answer has no task_id", "transient")
        return task_id

    def poll_request(self, task_id: str) -> HttpRequest:
        if is_v2_task(task_id):
            return self._v2.poll_request(task_id)
        return self._get("/v1/query/video_generation", task_id=task_id)

    def parse_poll(self, response: HttpResponse) -> TaskStatus:
        if self._v2.answered(response):
            return self._v2.parse_poll(response)
        body = self._ok_json(response)
        raw = as_text(body.get("status"))
        state = state_for(_STATE_BY_STATUS, raw)
        if state == "failed":
            # On `Fail`, base_resp is the task's reason (1026/1027), not a query error.
            code, message = _base_resp(body)
            detail = f"{message or 'task failed'} (status_code {code})" if code else "task failed"
            return self._failed(raw, failure_for(code), detail)
        self._raise_unless_ok(response, body)
        if state is None:
            return self._still_running(raw)
        if state == "finalizing":
            file_id = as_id(body.get("file_id"))
            if not file_id:
                return self._still_running(raw, f"{raw} without a file_id")
            return TaskStatus("finalizing", raw, progress=1.0, file_id=file_id)
        return TaskStatus(state, raw)

    def retrieve_request(self, status: TaskStatus) -> HttpRequest | None:
        """`files/retrieve` for a `finalizing` status: the only way to a v1 download URL."""
        if status.state != "finalizing" or not status.file_id:
            return None
        return self._get("/v1/files/retrieve", file_id=status.file_id)

    def parse_retrieve(self, response: HttpResponse) -> TaskStatus:
        body = self._ok_json(response)
        self._raise_unless_ok(response, body)
        file = as_object(body.get("file"))
        file_id = as_id(file.get("file_id")) or None
        url = as_text(file.get("download_url")) or as_text(file.get("backup_download_url"))
        if not url:
            warning = f"{self.name}: files/retrieve has no download_url yet; ask again"
            return TaskStatus("finalizing", "Success", file_id=file_id, warning=warning)
        return TaskStatus(
            "succeeded",
            "Success",
            progress=1.0,
            video_url=url,
            url_ttl=self.capabilities.url_ttl,  # 1 h from when it is returned
            file_id=file_id,
        )

    def classify(self, response: HttpResponse) -> ProviderError:
        """A V2 answer by V2's rules; a v1 one by its `base_resp`, else its HTTP status."""
        if self._v2.answered(response):
            return self._v2.classify(response)
        return self._classify_v1(response)

    def _classify_v1(self, response: HttpResponse) -> ProviderError:
        """A non-zero `base_resp` code decides; without one, the HTTP status does."""
        body = loose_json(response)
        code, message = _base_resp(body)
        trace_id = response.headers.get("trace-id")
        trace = f", trace-id {trace_id}" if trace_id else ""
        if code:
            kind = KIND_BY_CODE.get(code)
            if kind is None:
                ok = 200 <= response.status < 300
                kind = "provider_error" if ok else kind_for_http_status(response.status)
            text = f"{message or 'error'} (status_code {code}{trace})"
            return self._error(response, text, kind)
        text = f"HTTP {response.status}: {message or snippet(response)}{trace}"
        return self._error(response, text)

    def _raise_unless_ok(self, response: HttpResponse, body: Mapping[str, object]) -> None:
        """minimax-mcp's rule: success needs `base_resp.status_code == 0`, present."""
        code, _ = _base_resp(body)
        if code is None:
            raise self._error(response, "answer has no base_resp.status_code", "transient")
        if code != 0:
            raise self.classify(response)


def _v1_model(model: Model, images: SubmitImages) -> Model:
    """The table row whose wire id a v1 body names: `video-01` is T2V-01 or I2V-01."""
    if model == "video-01":
        return "i2v-01" if images.first else "t2v-01"
    return model


def _fieldless(model: Model, images: SubmitImages) -> str | None:
    """What v1 has no field for (references) or S2V-01's body would lack (its subject)."""
    if images.references:
        return "takes no references (H3 does)"
    if model == "s2v-01" and not images.subject:
        return "needs a subject reference image"
    if model != "s2v-01" and images.subject:
        return "takes no subject reference (S2V-01 does)"
    return None


def _base_resp(body: Mapping[str, object]) -> tuple[int | None, str]:
    """`base_resp`'s code (None when absent or not a number) and its message."""
    number = as_number(dig(body, "base_resp", "status_code"))
    code = int(number) if number is not None else None
    return code, as_text(dig(body, "base_resp", "status_msg"))
