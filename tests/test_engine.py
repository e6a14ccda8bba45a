"""The engine with a fake server (MockTransport) and a manual clock: no sockets, no waiting."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from hailuo_batch.core.capabilities import Rate
from hailuo_batch.core.clock import ManualClock
from hailuo_batch.core.http import HttpRequest, HttpResponse
from hailuo_batch.errors import TransportError
from hailuo_batch.manifest.document import load_manifest
from hailuo_batch.manifest.images import image_ref
from hailuo_batch.manifest.plan import build_plan
from hailuo_batch.manifest.rows import read_rows
from hailuo_batch.providers import make_provider
from hailuo_batch.run.engine import Engine, RunSettings, RunSummary
from hailuo_batch.store.fold import load_state
from hailuo_batch.store.journal import Journal
from hailuo_batch.transport import MockTransport

MP4 = Path(__file__).parent / "data" / "tiny.mp4"


def _json(status: int, body: object, **headers: str) -> HttpResponse:
    return HttpResponse(status, json.dumps(body).encode(), headers)


class FakeNovita:
    """Just enough of Novita's protocol: tasks succeed on the second poll."""

    def __init__(self) -> None:
        self.submits = 0
        self.polls: dict[str, int] = {}
        self.urls_served = 0
        self.script: list[Callable[[HttpRequest], HttpResponse | None]] = []

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        for rule in list(self.script):
            answer = rule(request)
            if answer is not None:
                self.script.remove(rule)
                return answer
        if request.method == "POST":
            self.submits += 1
            return _json(200, {"task_id": f"t{self.submits}"})
        if "task-result" in request.url:
            task = request.url.split("task_id=")[1]
            self.polls[task] = self.polls.get(task, 0) + 1
            if self.polls[task] < 2:
                return _json(
                    200,
                    {
                        "task": {
                            "task_id": task,
                            "status": "TASK_STATUS_PROCESSING",
                            "progress_percent": 50,
                            "eta": 3,
                        },
                        "videos": [],
                    },
                )
            self.urls_served += 1
            url = f"https://cdn.example/{task}-{self.urls_served}.mp4"
            return _json(
                200,
                {
                    "task": {"task_id": task, "status": "TASK_STATUS_SUCCEED"},
                    "videos": [{"video_url": url, "video_url_ttl": "3600", "video_type": "mp4"}],
                },
            )
        return HttpResponse(200, MP4.read_bytes())


def run_engine(tmp_path: Path, server: FakeNovita, jobs: int = 2) -> tuple[RunSummary, ManualClock]:
    manifest = tmp_path / "m.yaml"
    prompts = ", ".join(f"'p{i}'" for i in range(jobs))
    manifest.write_text(
        f"version: 1\nprovider: novita\njobs:\n  - matrix: {{prompt: [{prompts}]}}\n"
    )
    plan = build_plan(load_manifest(manifest), read_rows, image_ref)
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    clock = ManualClock()
    settings = RunSettings(
        out_dir=out, concurrency={"novita": 2}, submit_rate={"novita": Rate(100, 1.0)}, seed=1
    )
    journal = Journal(out)

    async def main() -> RunSummary:
        engine = Engine(
            plan,
            {"novita": make_provider("novita", "k", "https://fake/novita")},
            MockTransport(server),
            clock,
            journal,
            load_state(out),
            settings,
            lambda p, j: 0.25,
            lambda: None,
        )
        return await engine.run()

    try:
        return asyncio.run(main()), clock
    finally:
        journal.close()


def test_an_expired_url_is_refreshed_through_the_provider_not_regenerated(tmp_path: Path) -> None:
    server = FakeNovita()
    server.script.append(
        lambda r: (
            HttpResponse(403, b"<Error>expired</Error>")
            if r.url.startswith("https://cdn.example/")
            else None
        )
    )
    summary, _ = run_engine(tmp_path, server)
    assert summary.by_state == {"done": 2}
    assert server.submits == 2
    assert server.urls_served == 3  # one URL was stale: the poll handed out a fresh one


def test_rate_limited_submit_waits_for_retry_after_and_is_not_a_duplicate(tmp_path: Path) -> None:
    server = FakeNovita()
    server.script.append(
        lambda r: (
            _json(
                429,
                {"code": 429, "reason": "RATE_LIMIT_EXCEEDED", "message": "slow down"},
                **{"retry-after": "7"},
            )
            if r.method == "POST"
            else None
        )
    )
    summary, clock = run_engine(tmp_path, server, jobs=1)
    assert summary.by_state == {"done": 1} and summary.possible_duplicates == 0
    assert 7.0 in clock.slept
    assert server.submits == 1


def test_a_dropped_submit_is_journaled_unknown_then_resubmitted_as_possible_duplicate(
    tmp_path: Path,
) -> None:
    server = FakeNovita()

    def drop(request: HttpRequest) -> HttpResponse | None:
        if request.method == "POST":
            server.script.remove(drop)
            raise TransportError("connection lost", sent=True)
        return None

    server.script.append(drop)
    summary, _ = run_engine(tmp_path, server, jobs=1)
    assert summary.by_state == {"done": 1}
    assert summary.possible_duplicates == 1
    journal = (tmp_path / "out" / "journal.jsonl").read_text()
    assert '"ev":"unknown"' in journal


def test_polls_per_job_stay_few_when_the_provider_gives_an_eta(tmp_path: Path) -> None:
    server = FakeNovita()
    summary, _ = run_engine(tmp_path, server, jobs=4)
    assert summary.by_state == {"done": 4}
    assert sum(server.polls.values()) / 4 <= 3
