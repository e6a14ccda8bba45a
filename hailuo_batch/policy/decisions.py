"""What an answer means for a job, a provider and the run: pure decisions. No I/O, no clock.

The engine asks these and acts; each is a small function over values, tested in
milliseconds. The money rule behind them: only a submit that was sent and got no usable
answer can have been paid without our knowing; a submit that never left, or that an
answer clearly refused, created nothing.

    submit outcome            Accepted | NeverSent | Refusal | NoAnswer   (submit_outcome)
    a clear refusal           retry | slow down | out of service | fail the job (on_refusal)
    a failed task             submit again | fail the job                  (on_task_failure)
    a lost reply, listed      adopt | nothing was created | wait | possibly paid (on_listing)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hailuo_batch.core.http import Absent, Found, ListingMatch
from hailuo_batch.core.jobs import FailureKind
from hailuo_batch.errors import ProviderError, TransportError


@dataclass(frozen=True, slots=True)
class Accepted:
    task_id: str


@dataclass(frozen=True, slots=True)
class NeverSent:
    """The request never left this machine."""

    message: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """An answer came back and says no task was created."""

    error: ProviderError


@dataclass(frozen=True, slots=True)
class NoAnswer:
    """Sent, and no usable answer: a task may exist."""

    message: str


SubmitOutcome = Accepted | NeverSent | Refusal | NoAnswer


def submit_outcome(result: str | BaseException) -> SubmitOutcome:
    """Read what one submit came to: a task id, or the error it raised.

    Anything else raised (a bug, not an answer) is raised again: the caller journals the
    submit as `NoAnswer` first, since it cannot know whether the request went out.
    """
    if isinstance(result, str):
        return Accepted(result)
    if isinstance(result, TransportError):
        return NoAnswer(str(result)) if result.sent else NeverSent(str(result))
    if isinstance(result, ProviderError):
        return NoAnswer(result.message) if ambiguous(result) else Refusal(result)
    raise result


def ambiguous(err: ProviderError) -> bool:
    """A submit error after which the task may exist: a timeout, a 5xx other than 503, or
    a garbled 2xx. 503 and 429 say the server did not take the request (RFC 9110)."""
    if err.kind != "transient" or err.status == 503:
        return False
    return err.status is None or err.status >= 500 or 200 <= err.status < 300 or err.status == 408


RefusalAction = Literal["retry", "slow_down", "out_of_service", "fail_job"]


def on_refusal(err: ProviderError) -> RefusalAction:
    """What a clear refusal means: try again (after backoff), slow the provider down,
    take it out of service (the account is the problem), or fail this job (the request is)."""
    if err.kind == "rate_limited":
        return "slow_down"
    if err.kind == "transient":
        return "retry"
    if err.kind in ("auth", "quota"):
        return "out_of_service"
    return "fail_job"


def out_of_service_reason(err: ProviderError) -> str:
    """How a provider taken out of service is explained, in the run's output and `status`."""
    if err.kind == "auth":
        return f"{err.provider} refused the API key: {err.message}"
    return f"{err.provider} is out of balance: {err.message}"


@dataclass(frozen=True, slots=True)
class TryAgain:
    reason: str


@dataclass(frozen=True, slots=True)
class FailJob:
    kind: FailureKind
    message: str


def on_task_failure(
    failure: str | None, message: str, attempts: int, max_attempts: int
) -> TryAgain | FailJob:
    """A task ended failed: bad input and moderation are final; anything else is tried
    again until `max_attempts` submits have been made (each may cost money)."""
    kind: FailureKind = "provider_error"
    if failure in ("invalid_input", "content_policy", "auth", "quota", "expired", "budget"):
        kind = failure  # type: ignore[assignment]
    text = message or "task failed"
    if kind in ("invalid_input", "content_policy"):
        return FailJob(kind, text)
    if attempts >= max_attempts:
        return FailJob(kind, f"{text} (after {attempts} attempts)")
    return TryAgain(text)


ListingVerdict = Literal["adopt", "not_created", "wait", "possibly_paid"]


def on_listing(match: ListingMatch, waited: float, grace: float) -> ListingVerdict:
    """What a provider's task list says about a lost submit, `waited` seconds after it was
    sent. A miss proves nothing was created only once the list has had `grace` seconds to
    show the task; a list that cannot tell means the submit may have been paid."""
    if isinstance(match, Found):
        return "adopt"
    if isinstance(match, Absent):
        return "not_created" if waited >= grace else "wait"
    return "possibly_paid"
