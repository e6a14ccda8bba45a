"""Downloads: a bounded pool that streams finished videos to disk and checks them.

Part of the engine (orchestration): a video is written as `videos/<id>.mp4.part`,
probed, given a poster frame, renamed, then journaled `done`. A stale URL is refreshed
through the provider (re-poll, or MiniMax's retrieve), never regenerated; what can no
longer be fetched is reported as lost paid output (`expired`). Times are in seconds.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hailuo_batch.core.clock import Clock
from hailuo_batch.core.http import TaskStatus
from hailuo_batch.core.jobs import FailureKind, Job
from hailuo_batch.core.layout import VIDEOS, poster_path, video_path
from hailuo_batch.errors import ProviderError, TransportError
from hailuo_batch.outputs import probe, verify
from hailuo_batch.policy.retry import Backoff
from hailuo_batch.store.fold import Event, JobRecord
from hailuo_batch.transport import Transport

EXPIRED_STATUSES = frozenset({401, 403, 404, 410})  # what a presigned URL says once stale


class FetchHost(Protocol):
    """What downloads need from the run they belong to."""

    def record(self, job: Job) -> JobRecord: ...

    async def emit_durable(self, event: Event) -> None: ...

    def fail(self, job: Job, kind: FailureKind, message: str) -> None: ...

    async def fresh_status(self, job: Job) -> TaskStatus:
        """Ask the job's provider about its task again (LookupError: no provider to ask)."""
        ...


@dataclass
class Fetcher:
    """`workers` downloads at a time, fed through `put`, drained by `finish`."""

    host: FetchHost
    transport: Transport
    clock: Clock
    out_dir: Path
    attempts: int
    rng: random.Random
    backoff: Backoff

    def __post_init__(self) -> None:
        self._queue: asyncio.Queue[tuple[Job, TaskStatus | None] | None] = asyncio.Queue()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self, workers: int) -> None:
        self.out_dir.joinpath(VIDEOS).mkdir(parents=True, exist_ok=True)
        self.tasks = [asyncio.create_task(self._worker()) for _ in range(workers)]

    def put(self, job: Job, status: TaskStatus | None) -> None:
        """Queue a download; `status` None means: ask the provider for a fresh URL first."""
        self._queue.put_nowait((job, status))

    async def finish(self) -> None:
        """Wait for every queued download, then let the workers end."""
        for _ in self.tasks:
            self._queue.put_nowait(None)
        await asyncio.gather(*self.tasks)

    async def _worker(self) -> None:
        while (item := await self._queue.get()) is not None:
            await self._download(*item)

    async def _download(self, job: Job, status: TaskStatus | None) -> None:
        problem = "no provider to ask for the video"
        for attempt in range(1, self.attempts + 1):
            if status is None or status.video_url is None or self._expired(status):
                try:
                    status = await self.host.fresh_status(job)
                except LookupError:
                    break
                except (TransportError, ProviderError) as exc:
                    problem = f"cannot refresh the video URL: {exc}"
                    await self.clock.sleep(self.backoff.delay(attempt, self.rng))
                    continue
                if status.state != "succeeded" or not status.video_url:
                    problem = f"the provider no longer offers the video ({status.raw_status})"
                    status = None
                    await self.clock.sleep(self.backoff.delay(attempt, self.rng))
                    continue
            try:
                if await self._save(job, status.video_url or ""):
                    return
                problem = "the video URL has expired"
                status = None  # refresh
            except TransportError as exc:
                problem = str(exc)
                await self.clock.sleep(self.backoff.delay(attempt, self.rng))
        self.host.fail(job, "expired", f"paid output could not be fetched: {problem}")

    def _expired(self, status: TaskStatus) -> bool:
        return status.url_expires_at is not None and status.url_expires_at <= self.clock.time()

    async def _save(self, job: Job, url: str) -> bool:
        """Stream to `videos/<id>.mp4.part`, check it, rename; False if the URL is stale."""
        relative = video_path(job.id)
        final = self.out_dir / relative
        part = final.with_name(final.name + ".part")
        got = await self.transport.download(url, part)
        if got.status in EXPIRED_STATUSES:
            return False
        if got.status != 200 or got.bytes == 0:
            part.unlink(missing_ok=True)
            raise TransportError(f"download answered HTTP {got.status}", sent=True)
        poster = self.out_dir / poster_path(relative)
        try:
            facts = await asyncio.to_thread(probe.probe_video, part, poster)
        except probe.MediaError as exc:
            part.unlink(missing_ok=True)
            raise TransportError(
                f"downloaded file is not a playable video: {exc}", sent=True
            ) from None
        part.replace(final)
        await self.host.emit_durable(
            {
                "ev": "done",
                "key": job.key,
                "path": relative,
                "sha256": got.sha256,
                "bytes": got.bytes,
                "mtime_ns": final.stat().st_mtime_ns,
                "media": facts,
                "warnings": verify.mismatches(job.request.to_json(), facts),
            }
        )
        return True
