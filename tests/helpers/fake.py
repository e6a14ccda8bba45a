"""Fake provider servers for the engine: MockTransport handlers that speak just enough of a
protocol (Novita's or GMI's, as docs/providers/ describe them), with a script of one-off
answers and counts of what they received. Runs go through the library's own wiring with
a manual clock, so a whole run takes milliseconds."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import yaml

from hailuo_batch.core.clock import ManualClock
from hailuo_batch.core.http import HttpRequest, HttpResponse
from hailuo_batch.engine.summary import RunSummary
from hailuo_batch.engine.wiring import RunOptions, run_manifest
from hailuo_batch.transport import MockTransport

MP4 = Path(__file__).resolve().parents[1] / "data" / "tiny.mp4"
Rule = Callable[[HttpRequest], HttpResponse | None]


def answer(status: int, body: object, **headers: str) -> HttpResponse:
    return HttpResponse(status, json.dumps(body).encode(), headers)


class FakeServer:
    """One origin serving Novita's and GMI's protocols; tasks succeed on their second poll.

    `script` rules run first, in order; a rule that answers (or raises) is used once.
    `received` counts requests by kind: submit, poll, list, download.
    """

    def __init__(self) -> None:
        self.script: list[Rule] = []
        self.received: dict[str, int] = {}
        self.tasks: dict[str, dict[str, object]] = {}  # id -> body, for GMI's list
        self.polls: dict[str, int] = {}
        self.urls_served = 0

    def count(self, kind: str) -> None:
        self.received[kind] = self.received.get(kind, 0) + 1

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        for rule in list(self.script):
            try:
                found = rule(request)
            except BaseException:
                self.script.remove(rule)  # a rule that raised has answered
                raise
            if found is not None:
                self.script.remove(rule)
                return found
        url = request.url
        if request.method == "POST":
            self.count("submit")
            return self.accept(request)
        if url.startswith("https://cdn.example/"):
            self.count("download")
            return HttpResponse(200, MP4.read_bytes())
        if "/requests?" in url or url.endswith("/requests"):
            self.count("list")
            return answer(200, {"requests": self.listed(), "total": len(self.tasks)})
        self.count("poll")
        return self.poll(url)

    def accept(self, request: HttpRequest) -> HttpResponse:
        task = str(uuid.uuid4())
        self.tasks[task] = dict(request.json or {})
        if "/requestqueue/" in request.url:
            return answer(200, {"request_id": task, "status": "queued"})
        if "/video/generations" in request.url:
            return answer(200, {"id": task, "status": "queued"})
        return answer(200, {"task_id": task})

    def listed(self) -> list[dict[str, object]]:
        return [
            {"request_id": task, "status": "queued", "payload": body.get("payload")}
            for task, body in reversed(self.tasks.items())
        ]

    def poll(self, url: str) -> HttpResponse:
        gmi, aimlapi = "/requestqueue/" in url, "generation_id=" in url
        if gmi:
            task = url.rsplit("/", 1)[1]
        else:
            task = url.split("generation_id=" if aimlapi else "task_id=")[1]
        self.polls[task] = self.polls.get(task, 0) + 1
        done = self.polls[task] >= 2
        if done:
            self.urls_served += 1
        video = f"https://cdn.example/{task}-{self.urls_served}.mp4"
        if aimlapi:
            if done:
                return answer(200, {"id": task, "status": "completed", "video": {"url": video}})
            return answer(200, {"id": task, "status": "generating", "video": None})
        if gmi:
            body: dict[str, object] = {"request_id": task, "status": "processing", "outcome": None}
            if done:
                body = {**body, "status": "success", "outcome": {"media_urls": [{"url": video}]}}
            return answer(200, body)
        status = "TASK_STATUS_SUCCEED" if done else "TASK_STATUS_PROCESSING"
        videos = [{"video_url": video, "video_url_ttl": "3600", "video_type": "mp4"}]
        return answer(
            200,
            {
                "task": {"task_id": task, "status": status, "progress_percent": 50, "eta": 3},
                "videos": videos if done else [],
            },
        )


def manifest(folder: Path, jobs: int = 2, *, provider: str = "novita", extra: str = "") -> Path:
    """`jobs` text-to-video jobs for `provider` (a name or a YAML list), output in `out/`."""
    prompts = ", ".join(f"'p{i}'" for i in range(jobs))
    path = folder / "m.yaml"
    path.write_text(
        f"version: 1\nprovider: {provider}\noutput: out\n"
        f"limits: {{concurrency: 2, submit_rate: 100/s}}\n{extra}"
        f"jobs:\n  - matrix: {{prompt: [{prompts}]}}\n"
    )
    return path


ORIGINS = {name: f"https://fake/{name}" for name in ("novita", "aimlapi", "gmi", "minimax")}
KEYS = {
    "NOVITA_API_KEY": "sk-fake-novita",
    "AIMLAPI_API_KEY": "sk-fake-aimlapi",
    "GMI_API_KEY": "sk-fake-gmi",
    "MINIMAX_API_KEY": "sk-fake-minimax",
}


def run(
    path: Path,
    server: FakeServer,
    *,
    clock: ManualClock | None = None,
    env: dict[str, str] | None = None,
    also: tuple[str, ...] = (),
    **options: object,
) -> RunSummary:
    """`run` of the manifest at `path` against `server`, on a manual clock, in no real time.

    Every provider the manifest names (and `also`, for providers holding tasks) is
    pointed at the fake server.
    """
    named = yaml.safe_load(path.read_text())["provider"]
    names = {*(named if isinstance(named, list) else [named]), *also}
    urls = {name: url for name, url in ORIGINS.items() if name in names}
    settings = RunOptions(base_urls=urls, **options)  # type: ignore[arg-type]
    return asyncio.run(
        run_manifest(
            path,
            settings,
            KEYS if env is None else env,
            transport=MockTransport(server),
            clock=clock or ManualClock(),
        )
    )
