"""Pure decisions, each in microseconds: what a submit came to, what a refusal or a failed
task means, what a task list proves, and when a failing provider is out of service."""

from __future__ import annotations

import random

import pytest

from hailuo_batch.core.http import Absent, Found, Unsure
from hailuo_batch.errors import ProviderError, TransportError
from hailuo_batch.policy import decisions
from hailuo_batch.policy.breaker import Breaker
from hailuo_batch.policy.budget import Budget


def error(kind: str, status: int | None = None) -> ProviderError:
    return ProviderError(kind, "novita", "message", status=status)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("result", "outcome"),
    [
        ("task-1", decisions.Accepted("task-1")),
        (TransportError("cannot connect", sent=False), decisions.NeverSent("cannot connect")),
        (TransportError("timed out", sent=True), decisions.NoAnswer("timed out")),
        (error("transient", 502), decisions.NoAnswer("message")),
        (error("transient", 200), decisions.NoAnswer("message")),  # a garbled 2xx
        (error("transient", 408), decisions.NoAnswer("message")),
        (error("transient", None), decisions.NoAnswer("message")),
    ],
)
def test_what_a_submit_came_to(result: str | BaseException, outcome: object) -> None:
    assert decisions.submit_outcome(result) == outcome


@pytest.mark.parametrize("status", [503, 429, 400, 401, 403])
def test_a_clear_refusal_created_nothing(status: int) -> None:
    kind = {503: "transient", 429: "rate_limited", 400: "invalid_input"}.get(status, "auth")
    assert isinstance(decisions.submit_outcome(error(kind, status)), decisions.Refusal)


def test_a_bug_is_not_read_as_an_answer() -> None:
    with pytest.raises(KeyError):
        decisions.submit_outcome(KeyError("novita"))


@pytest.mark.parametrize(
    ("kind", "action"),
    [
        ("rate_limited", "slow_down"),
        ("transient", "retry"),
        ("auth", "out_of_service"),
        ("quota", "out_of_service"),
        ("invalid_input", "fail_job"),
        ("content_policy", "fail_job"),
    ],
)
def test_what_a_refusal_means_for_the_job_and_the_provider(kind: str, action: str) -> None:
    assert decisions.on_refusal(error(kind)) == action


def test_failover_reasons_name_the_provider_and_what_to_fix() -> None:
    assert decisions.out_of_service_reason(error("auth")) == "novita refused the API key: message"
    assert decisions.out_of_service_reason(error("quota")) == "novita is out of balance: message"


@pytest.mark.parametrize(
    ("failure", "attempts", "expected"),
    [
        ("content_policy", 1, decisions.FailJob("content_policy", "blocked")),
        ("invalid_input", 1, decisions.FailJob("invalid_input", "blocked")),
        ("provider_error", 1, decisions.TryAgain("blocked")),
        (None, 2, decisions.TryAgain("blocked")),
        ("transient", 3, decisions.FailJob("provider_error", "blocked (after 3 attempts)")),
    ],
)
def test_what_a_failed_task_means(failure: str | None, attempts: int, expected: object) -> None:
    assert decisions.on_task_failure(failure, "blocked", attempts, 3) == expected


@pytest.mark.parametrize(
    ("match", "waited", "verdict"),
    [
        (Found("t1"), 0.0, "adopt"),
        (Absent(), 1.0, "wait"),
        (Absent(), 5.0, "not_created"),
        (Unsure("entries without payload"), 60.0, "possibly_paid"),
    ],
)
def test_what_a_task_list_proves_about_a_lost_submit(
    match: object, waited: float, verdict: str
) -> None:
    assert decisions.on_listing(match, waited, grace=5.0) == verdict  # type: ignore[arg-type]


def test_the_breaker_counts_one_failure_per_pause_and_trips_after_spaced_failures() -> None:
    breaker, rng, now = Breaker(threshold=6), random.Random(1), 0.0
    for _ in range(4):  # four slots failing at the same instant: one failure
        resume = breaker.failure(now, rng)
    assert breaker.failures == 1
    while not breaker.tripped:
        now = resume
        resume = breaker.failure(now, rng)
    assert breaker.failures == 6
    assert now >= 0.25 * 0.75 * (1 + 2 + 4 + 8 + 16)  # backoff before each counted failure


def test_the_breaker_forgets_after_a_success() -> None:
    breaker, rng = Breaker(threshold=2), random.Random(1)
    breaker.failure(0.0, rng)
    breaker.success()
    breaker.failure(100.0, rng)
    assert not breaker.tripped


def test_the_budget_reserves_before_a_submit_and_never_overshoots() -> None:
    budget = Budget(1.0, spent=0.5)
    assert budget.reserve(0.28)
    assert not budget.reserve(0.28)  # 0.5 + 0.28 + 0.28 > 1.0, even while in flight
    budget.release(0.28)  # clearly refused: nothing paid
    assert budget.reserve(0.28)
    budget.settle(0.28)  # paid (or maybe)
    assert budget.spent == pytest.approx(0.78) and budget.left == pytest.approx(0.22)
