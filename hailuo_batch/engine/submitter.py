"""The submitter: one job to one accepted task, paying at most once where we can know it.

Each attempt reserves its price under the budget, journals a `SubmitIntent`, sends inside
the lane's submit window (a few at once where answers are slow, see
`policy.limits.SubmitWindow`), and journals what came of it (`policy.decisions`): accepted,
never sent, refused, or no answer. That outcome is journaled by the sending task itself,
shielded from cancellation, so a run that stops mid-submit still records the answer.
A submit with no answer may have created a task: it is looked up in the provider's task
list where a documented one can prove it, else submitted again and counted as a
possible duplicate (its price counted as spent). Times are in seconds.
"""

from __future__ import annotations

import asyncio
import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hailuo_batch.core import events as ev
from hailuo_batch.core.clock import Clock
from hailuo_batch.core.http import HttpRequest, SubmitImages
from hailuo_batch.core.jobs import ImageRef, Job
from hailuo_batch.engine.lanes import Lane
from hailuo_batch.engine.recorder import Recorder
from hailuo_batch.errors import ProviderError, TransportError
from hailuo_batch.manifest.images import data_uri
from hailuo_batch.policy import decisions
from hailuo_batch.policy.budget import Budget
from hailuo_batch.policy.retry import Backoff
from hailuo_batch.providers import TaskFinder
from hailuo_batch.transport import Transport

LIST_TRIES = 5  # failed list requests before a lost submit counts as possibly paid


class SubmitHost(Protocol):
    """What the submitter needs from the run it belongs to."""

    def fail(self, job: Job, kind: str, message: str, stage: str = "submit") -> None: ...

    def out_of_service(self, lane: Lane, reason: str, job: Job | None) -> None:
        """Take `lane` out of service; `job` (being submitted) goes elsewhere with the rest."""
        ...

    def over_budget(self, job: Job, price: float) -> None: ...


@dataclass(frozen=True, slots=True)
class SubmitSettings:
    max_attempts: int = 3  # submits per job that may have reached a provider
    simulated: bool = False  # every submit goes to the built-in simulator


class Submitter:
    """Submits jobs for every lane of one run."""

    def __init__(
        self,
        host: SubmitHost,
        recorder: Recorder,
        transport: Transport,
        clock: Clock,
        budget: Budget,
        price_of: Callable[[str, Job], float | None],
        settings: SubmitSettings,
        rng: random.Random,
        backoff: Backoff,
    ) -> None:
        self.host = host
        self.recorder = recorder
        self.transport = transport
        self.clock = clock
        self.budget = budget
        self.price_of = price_of
        self.settings = settings
        self.rng = rng
        self.backoff = backoff
        self.sending: set[asyncio.Task[decisions.SubmitOutcome]] = set()
        self._images = _ImageCache()

    async def submit(self, lane: Lane, job: Job) -> str | None:
        """Submit until the provider answers clearly: the task id, or None when this lane is
        done with the job (it failed, went to another provider, or the run stops)."""
        retries = 0
        while True:
            if lane.out_of_service is not None:
                self.host.out_of_service(lane, lane.out_of_service, job)
                return None
            await lane.limiter.acquire()  # waits out any pause the lane is resting in
            if lane.out_of_service is not None:
                continue
            price = self.price_of(lane.name, job)
            if not self.budget.reserve(price or 0.0):
                self.host.over_budget(job, price or 0.0)
                return None
            settled = False
            try:
                try:
                    request = lane.adapter.submit_request(job.request, await self.images(job))
                except ProviderError as err:  # the adapter's wire cannot say what was asked
                    self.host.fail(job, err.kind, err.message)
                    return None
                async with lane.window:
                    self.recorder.emit(
                        ev.SubmitIntent(
                            key=job.key, provider=lane.name, simulated=self.settings.simulated
                        )
                    )
                    sent_at = self.clock.time()
                    outcome = await self._shielded(lane, job, request, price)
                if isinstance(outcome, decisions.Accepted | decisions.NoAnswer):
                    self.budget.settle(price or 0.0)  # paid, or may have been
                    settled = True
            finally:
                if not settled:
                    self.budget.release(price or 0.0)
            retries += 1
            match outcome:
                case decisions.Accepted(task_id):
                    lane.breaker.success()
                    lane.rate_limited_in_a_row = 0
                    lane.gate.grow()
                    return task_id
                case decisions.NeverSent():
                    self._failed_attempt(lane, job)
                case decisions.NoAnswer(message):
                    found = await self.reconcile(lane, job, price, sent_at)
                    if found is not None:
                        return found
                    if self.recorder.record(job.key).attempts >= self.settings.max_attempts:
                        self.host.fail(
                            job, "provider_error", f"submits keep getting no answer ({message})"
                        )
                        return None
                    self._failed_attempt(lane, job)
                case decisions.Refusal(refusal):
                    if not self._refused(lane, job, refusal, retries):
                        return None

    async def _shielded(
        self, lane: Lane, job: Job, request: HttpRequest, price: float | None
    ) -> decisions.SubmitOutcome:
        """Send one submit in its own task: a stopping run cannot drop its answer."""
        task = asyncio.ensure_future(self._send(lane, job, request, price))
        self.sending.add(task)
        task.add_done_callback(self.sending.discard)
        return await asyncio.shield(task)

    async def _send(
        self, lane: Lane, job: Job, request: HttpRequest, price: float | None
    ) -> decisions.SubmitOutcome:
        """Send, read the answer, and journal what it came to (durably when it may cost)."""
        try:
            started = self.clock.now()
            response = await self.transport.send(request)
            lane.latency.add(self.clock.now() - started)  # an answer came: how long it took
            result: str | BaseException = lane.adapter.parse_submit(response)
        except (TransportError, ProviderError) as exc:
            result = exc
        except BaseException as exc:  # a bug or a cancelled send: it may have gone out
            self.recorder.emit(ev.NoAnswer(key=job.key, message=f"interrupted ({exc!r})"))
            raise
        outcome = decisions.submit_outcome(result)
        key = job.key
        match outcome:
            case decisions.Accepted(task_id):
                await self.recorder.emit_durable(
                    ev.Accepted(key=key, task_id=task_id, cost_usd=price)
                )
            case decisions.NoAnswer(message):
                await self.recorder.emit_durable(ev.NoAnswer(key=key, message=message))
            case decisions.NeverSent(message):
                self.recorder.emit(ev.NotSent(key=key, message=message))
            case decisions.Refusal(refusal):
                self.recorder.emit(ev.Refused(key=key, kind=refusal.kind, message=refusal.message))
        return outcome

    def _refused(self, lane: Lane, job: Job, err: ProviderError, retries: int) -> bool:
        """Act on a clear refusal; False when this lane is done with the job."""
        match decisions.on_refusal(err):
            case "slow_down":
                lane.submits_ahead = False  # maybe our overlap was one too many: no more
                lane.rate_limited_in_a_row += 1
                if lane.rate_limited_in_a_row >= 2:
                    lane.gate.shrink()  # repeated "too many": fewer tasks in flight a while
                delay = self.backoff.delay(retries, self.rng, err.retry_after)
                lane.limiter.pause_until(self.clock.now() + delay)
                return True
            case "retry":
                self._failed_attempt(lane, job)
                return True
            case "out_of_service":
                self.host.out_of_service(lane, decisions.out_of_service_reason(err), job)
                return False
            case "fail_job":
                self.host.fail(job, err.kind, err.message)
                return False

    def _failed_attempt(self, lane: Lane, job: Job) -> None:
        """A submit that failed for the provider's (or the network's) sake: the whole lane
        rests a while, and after enough spaced failures it is taken out of service."""
        resume = lane.breaker.failure(self.clock.now(), self.rng)
        lane.limiter.pause_until(resume)
        if lane.breaker.tripped:
            reason = f"{lane.name} is down ({lane.breaker.failures} failed submits in a row)"
            self.host.out_of_service(lane, reason, None)

    async def recover(self, lane: Lane, job: Job) -> str | None:
        """A job a stopped run left mid-submit: its submit may have reached the provider."""
        price = self.price_of(lane.name, job)
        self.budget.settle(price or 0.0)  # it may have been paid for
        sent_at = self.recorder.record(job.key).sent_at or 0.0
        return await self.reconcile(lane, job, price, sent_at)

    async def reconcile(
        self, lane: Lane, job: Job, price: float | None, sent_at: float
    ) -> str | None:
        """The task a submit with no answer created, when a documented list can show it;
        None after journaling whether submitting again may pay twice."""
        adapter, grace = lane.adapter, lane.adapter.capabilities.list_grace
        if not isinstance(adapter, TaskFinder) or grace is None:
            self._possible_duplicate(job, price)
            return None
        body = adapter.submit_request(job.request, await self.images(job)).json or {}
        owned = {r.task_id for r in self.recorder.state.jobs.values() if r.task_id}
        failures = 0
        while failures < LIST_TRIES:
            try:
                response = await self.transport.send(adapter.list_request(body))
                match = adapter.find_task(response, body, exclude=owned)
            except (TransportError, ProviderError):
                failures += 1
                await self.clock.sleep(self.backoff.delay(failures, self.rng))
                continue
            waited = self.clock.time() - sent_at
            match decisions.on_listing(match, waited, grace):
                case "adopt":
                    task_id = match.task_id  # type: ignore[union-attr]
                    await self.recorder.emit_durable(
                        ev.Accepted(key=job.key, task_id=task_id, cost_usd=price, reconciled=True)
                    )
                    return task_id
                case "not_created":
                    self.recorder.emit(ev.Resubmit(key=job.key, possible_duplicate=False))
                    return None
                case "wait":
                    await self.clock.sleep(grace - waited)
                case "possibly_paid":
                    break
        self._possible_duplicate(job, price)
        return None

    def _possible_duplicate(self, job: Job, price: float | None) -> None:
        """Submit again without knowing whether the last one was paid: count its price."""
        self.recorder.emit(ev.Resubmit(key=job.key, possible_duplicate=True, cost_usd=price))

    async def images(self, job: Job) -> SubmitImages:
        """The job's media as the wire carries them, images encoded off the event loop."""
        request, wire = job.request, self._images.wire
        subject = request.subject_reference
        return SubmitImages(
            first=await wire(request.image) if request.image else None,
            last=await wire(request.end_image) if request.end_image else None,
            subject=await wire(subject) if subject else None,
            references=tuple([(ref.kind, await wire(ref.media)) for ref in request.references]),
        )


class _ImageCache:
    """`data:` URIs of local images, by content digest: a data set reusing a few images
    encodes each once. Bounded: a 20 MB image is a 27 MB URI."""

    SIZE = 8

    def __init__(self) -> None:
        self._uris: OrderedDict[str, str] = OrderedDict()

    async def wire(self, ref: ImageRef) -> str:
        if ref.kind != "path" or ref.sha256 is None:
            return data_uri(ref)
        cached = self._uris.get(ref.sha256)
        if cached is None:
            cached = await asyncio.to_thread(data_uri, ref)
            self._uris[ref.sha256] = cached
            if len(self._uris) > self.SIZE:
                self._uris.popitem(last=False)
        self._uris.move_to_end(ref.sha256)
        return cached
