"""Downloads: a bounded pool that streams finished videos to disk and checks them.

A video is written as `videos/<id>.mp4.part`, probed (with its poster frame) in a
thread, renamed into place, then journaled `Done`. Whatever sits at that place already
and is not this job's own video (a paid video of an earlier version of the job, after
its prompt was edited) is first moved aside to a name that cannot collide, and the move
journaled: a paid video is never overwritten. A stale URL is refreshed through the
provider (re-poll, or MiniMax's retrieve), never regenerated.

Failures say what they are: a URL the provider no longer renews is `expired`; a
download that keeps breaking, or a file that is not a playable video, is a
`provider_error` at the download stage (retried for free by the next run). A full disk
or an unwritable folder is not the job's fault: it goes up and stops the run, the job
still `downloading`. Times are in seconds.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from hailuo_batch.core import events as ev
from hailuo_batch.core.clock import Clock
from hailuo_batch.core.http import TaskStatus
from hailuo_batch.core.jobs import Job
from hailuo_batch.core.layout import VIDEOS, poster_path, superseded_path, video_path
from hailuo_batch.engine.recorder import Recorder
from hailuo_batch.errors import ProviderError, TransportError
from hailuo_batch.outputs import probe, verify
from hailuo_batch.policy.retry import Backoff
from hailuo_batch.transport import Transport

EXPIRED_STATUSES = frozenset({401, 403, 404, 410})  # what a presigned URL says once stale


class FetchHost(Protocol):
    """What downloads need from the run they belong to."""

    def fail(self, job: Job, kind: str, message: str, stage: str = "submit") -> None: ...


class _Stale(Exception):
    """The URL no longer works: ask the provider for a fresh one."""


class Downloads:
    """`workers` downloads at a time, fed through `put`, drained by `finish`."""

    def __init__(
        self,
        host: FetchHost,
        recorder: Recorder,
        transport: Transport,
        clock: Clock,
        folder: Path,
        refresh: Callable[[Job], Awaitable[TaskStatus]],
        *,
        attempts: int,
        rng: random.Random,
        backoff: Backoff,
    ) -> None:
        self.host = host
        self.recorder = recorder
        self.transport = transport
        self.clock = clock
        self.folder = folder
        self.refresh = refresh
        self.attempts = attempts
        self.rng = rng
        self.backoff = backoff
        self._queue: asyncio.Queue[tuple[Job, TaskStatus | None] | None] = asyncio.Queue()
        self.workers = 0

    def put(self, job: Job, status: TaskStatus | None) -> None:
        """Queue a download; `status` None means: ask the provider for a fresh URL first."""
        self._queue.put_nowait((job, status))

    async def worker(self) -> None:
        """One download at a time until `finish` (run several for a pool)."""
        self.folder.joinpath(VIDEOS).mkdir(parents=True, exist_ok=True)
        while (item := await self._queue.get()) is not None:
            await self.download(*item)

    def finish(self) -> None:
        """Let each worker end once the queue ahead of it is done."""
        for _ in range(self.workers):
            self._queue.put_nowait(None)

    async def download(self, job: Job, status: TaskStatus | None) -> None:
        """Fetch one job's video, or fail it with what went wrong."""
        kind, problem = "expired", "the provider gave no URL for the video"
        for attempt in range(1, self.attempts + 1):
            if status is None or not status.video_url or self._expired(status):
                try:
                    status = await self.refresh(job)
                except (TransportError, ProviderError) as exc:
                    kind, problem = "provider_error", f"cannot ask for a fresh URL: {exc}"
                    await self._pause(attempt)
                    continue
                if status.state != "succeeded" or not status.video_url:
                    kind = "expired"
                    problem = f"the provider no longer offers the video ({status.raw_status})"
                    status = None
                    await self._pause(attempt)
                    continue
            try:
                await self._save(job, status.video_url or "", status.charged_usd)
                return
            except _Stale as exc:
                kind, problem = "expired", f"the video URL no longer works ({exc})"
                status = None  # ask for a fresh one
            except TransportError as exc:
                kind, problem = "provider_error", f"download failed: {exc}"
                await self._pause(attempt)
            except probe.MediaError as exc:
                kind, problem = (
                    "provider_error",
                    f"the delivered file is not a playable video: {exc}",
                )
                await self._pause(attempt)
        tried = f" (after {self.attempts} attempts)"
        self.host.fail(job, kind, f"paid output could not be fetched: {problem}{tried}", "download")

    def _expired(self, status: TaskStatus) -> bool:
        return status.url_expires_at is not None and status.url_expires_at <= self.clock.time()

    async def _pause(self, attempt: int) -> None:
        await self.clock.sleep(self.backoff.delay(attempt, self.rng))

    async def _save(self, job: Job, url: str, charged: float | None) -> None:
        """Stream to `<video>.part`, check it, make room, rename, journal `Done`."""
        relative = video_path(job.id)
        final = self.folder / relative
        part = final.with_name(final.name + ".part")
        try:
            got = await self.transport.download(url, part)
            if got.status in EXPIRED_STATUSES:
                raise _Stale(f"HTTP {got.status}")
            if got.status != 200 or got.bytes == 0:
                raise TransportError(f"download answered HTTP {got.status}", sent=True)
            poster = self.folder / poster_path(relative)
            facts = await asyncio.to_thread(probe.probe_video, part, poster)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        await self._make_room(job, relative)
        part.replace(final)
        await self.recorder.emit_durable(
            ev.Done(
                key=job.key,
                path=relative,
                sha256=got.sha256,
                bytes=got.bytes,
                mtime_ns=final.stat().st_mtime_ns,
                media=facts,
                warnings=verify.mismatches(job.request.to_json(), facts),
                charged_usd=charged,
            )
        )

    async def _make_room(self, job: Job, relative: str) -> None:
        """Move aside whatever holds `relative` and is not this job's own copy."""
        final = self.folder / relative
        if not final.exists() or self.recorder.record(job.key).path == relative:
            return  # free, or the job's own (damaged) copy: the same task's video
        owner = next(
            (
                rec
                for rec in self.recorder.state.jobs.values()
                if rec.path == relative and rec.key != job.key and rec.state == "done"
            ),
            None,
        )
        if owner is not None:  # a paid video of an earlier version of the job
            aside = superseded_path(relative, owner.key[:12])
        else:  # no record owns it (a crash between rename and journal): keep it all the same
            digest = await asyncio.to_thread(probe.sha256_file, final)
            aside = superseded_path(relative, f"unrecorded-{digest[:12]}")
        await asyncio.to_thread(final.replace, self.folder / aside)
        if owner is not None:
            await self.recorder.emit_durable(ev.Moved(key=owner.key, path=aside))
