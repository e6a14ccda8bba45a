"""The engine with a fake server (MockTransport) and a manual clock: whole runs through the
library's wiring in milliseconds, asserting on the journal, the summary and what the fake
server received."""

from __future__ import annotations

from pathlib import Path

import pytest

from hailuo_batch.core import events as ev
from hailuo_batch.core.clock import ManualClock
from hailuo_batch.core.http import HttpRequest, HttpResponse
from hailuo_batch.errors import ManifestError, TransportError
from hailuo_batch.store.fold import load_state, read_events
from tests.helpers.fake import KEYS, FakeServer, answer, manifest, run


def events(folder: Path, kind: type[ev.Event]) -> list[ev.Event]:
    return [e for e in read_events(folder / "out" / "journal.jsonl") if isinstance(e, kind)]


def on_submit(respond: HttpResponse | BaseException, url_part: str = "") -> object:
    """A script rule answering (or raising on) the next submit whose URL holds `url_part`."""

    def rule(request: HttpRequest) -> HttpResponse | None:
        if request.method != "POST" or url_part not in request.url:
            return None
        if isinstance(respond, BaseException):
            raise respond
        return respond

    return rule


NOVITA_AUTH = answer(403, {"code": 403, "reason": "INVALID_API_KEY", "message": "invalid api key"})


def test_an_expired_url_is_refreshed_through_the_provider_not_regenerated(tmp_path: Path) -> None:
    server = FakeServer()
    server.script.append(
        lambda r: (
            HttpResponse(403, b"<Error>expired</Error>")
            if r.url.startswith("https://cdn.example/")
            else None
        )
    )
    summary = run(manifest(tmp_path), server)
    assert summary.by_state == {"done": 2}
    assert server.received["submit"] == 2
    assert server.urls_served == 3  # one URL was stale: the poll handed out a fresh one


def test_rate_limited_submit_waits_for_retry_after_and_is_not_a_duplicate(tmp_path: Path) -> None:
    server = FakeServer()
    limited = answer(429, {"code": 429, "reason": "RATE_LIMIT_EXCEEDED"}, **{"retry-after": "7"})
    server.script.append(on_submit(limited))  # type: ignore[arg-type]
    clock = ManualClock()
    summary = run(manifest(tmp_path, 1), server, clock=clock)
    assert summary.by_state == {"done": 1} and summary.possible_duplicates == 0
    assert any(6.9 <= s <= 7.1 for s in clock.slept)
    assert server.received["submit"] == 1


def test_a_submit_with_no_answer_is_resubmitted_as_a_possible_duplicate_and_paid(
    tmp_path: Path,
) -> None:
    server = FakeServer()
    server.script.append(on_submit(TransportError("connection lost", sent=True)))  # type: ignore[arg-type]
    summary = run(manifest(tmp_path, 1, extra="prices: {novita: {6s-768P: 0.28}}\n"), server)
    assert summary.by_state == {"done": 1}
    assert summary.possible_duplicates == 1
    assert summary.spend.known_usd == pytest.approx(0.56)  # the lost one may have been paid
    assert [type(e) for e in events(tmp_path, ev.NoAnswer)] == [ev.NoAnswer]


def test_a_submit_that_never_left_costs_nothing_and_is_no_duplicate(tmp_path: Path) -> None:
    server = FakeServer()
    server.script.append(on_submit(TransportError("cannot connect", sent=False)))  # type: ignore[arg-type]
    summary = run(manifest(tmp_path, 1, extra="prices: {novita: {6s-768P: 0.28}}\n"), server)
    assert summary.by_state == {"done": 1}
    assert summary.possible_duplicates == 0
    assert summary.spend.known_usd == pytest.approx(0.28)
    assert len(events(tmp_path, ev.NotSent)) == 1
    assert load_state(tmp_path / "out").jobs.popitem()[1].attempts == 1


def test_a_refused_key_fails_over_and_says_so(tmp_path: Path) -> None:
    server = FakeServer()
    server.script += [on_submit(NOVITA_AUTH, "/novita/")] * 3  # type: ignore[list-item]
    summary = run(manifest(tmp_path, 3, provider="[novita, aimlapi]"), server)
    assert summary.exit_code == 0, summary
    [down] = summary.out_of_service
    assert down.provider == "novita" and "refused the API key" in down.reason
    assert down.moved == 3
    state = load_state(tmp_path / "out")
    assert {rec.provider for rec in state.jobs.values()} == {"aimlapi"}
    assert all(rec.cost_usd == 0 for rec in state.jobs.values())  # nothing paid at novita


def test_a_lone_provider_refusing_the_key_stops_the_run_with_nothing_left_submitting(
    tmp_path: Path,
) -> None:
    server = FakeServer()
    server.script += [on_submit(NOVITA_AUTH)] * 4  # type: ignore[list-item]
    summary = run(manifest(tmp_path, 4), server)
    assert summary.exit_code == 3
    assert "refused the API key" in (summary.stopped or "")
    states = {rec.state for rec in load_state(tmp_path / "out").jobs.values()}
    assert states == {"pending"}  # refused: nothing to reconcile, nothing paid


def test_the_breaker_trips_only_after_spaced_failures(tmp_path: Path) -> None:
    """Connection refused at novita: it is taken out of service after six failures spread
    over seconds of backoff, not eight in a second; the work moves to aimlapi."""
    server = FakeServer()
    server.script += [on_submit(TransportError("refused", sent=False), "/novita/")] * 50  # type: ignore[list-item]
    clock = ManualClock()
    summary = run(manifest(tmp_path, 4, provider="[novita, aimlapi]"), server, clock=clock)
    assert summary.exit_code == 0
    [down] = summary.out_of_service
    assert "is down (6 failed submits in a row)" in down.reason
    not_sent = events(tmp_path, ev.NotSent)
    assert 6 <= len(not_sent) <= 8  # slots already past the pause may try once more
    [first_down, *_] = events(tmp_path, ev.ProviderDown)
    assert first_down.t - not_sent[0].t >= 5.0  # spaced by backoff, on the run's clock


def test_the_budget_caps_submits_before_they_are_sent(tmp_path: Path) -> None:
    server = FakeServer()
    path = manifest(tmp_path, 5, extra="prices: {novita: {6s-768P: 0.28}}\n")
    summary = run(path, server, budget_usd=0.60)
    assert summary.exit_code == 3 and "budget of $0.60 reached" in (summary.stopped or "")
    assert server.received["submit"] == 2
    assert summary.by_state == {"done": 2, "failed": 3}
    assert {f.kind for f in summary.failures} == {"budget"}


def test_a_lost_reply_at_gmi_is_found_in_its_list_not_paid_twice(tmp_path: Path) -> None:
    server = FakeServer()

    def lost(request: HttpRequest) -> HttpResponse | None:
        if request.method == "POST":
            server.accept(request)  # the task is created, then the answer is lost
            raise TransportError("connection lost", sent=True)
        return None

    server.script.append(lost)
    summary = run(manifest(tmp_path, 1, provider="gmi"), server)
    assert summary.by_state == {"done": 1} and summary.possible_duplicates == 0
    assert "submit" not in server.received and len(server.tasks) == 1  # adopted, not resent
    [adopted] = [e for e in events(tmp_path, ev.Accepted) if e.reconciled]  # type: ignore[attr-defined]
    assert adopted.task_id in server.tasks  # type: ignore[attr-defined]


def test_a_gmi_list_without_payloads_proves_nothing_so_it_counts_a_duplicate(
    tmp_path: Path,
) -> None:
    server = FakeServer()
    server.listed = lambda: [{"request_id": "other", "status": "queued"}]  # type: ignore[method-assign]
    server.script.append(on_submit(TransportError("connection lost", sent=True)))  # type: ignore[arg-type]
    summary = run(manifest(tmp_path, 1, provider="gmi"), server)
    assert summary.by_state == {"done": 1}
    assert summary.possible_duplicates == 1


def test_a_gmi_miss_counts_as_not_created_only_after_the_grace_period(tmp_path: Path) -> None:
    server = FakeServer()
    server.script.append(on_submit(TransportError("connection lost", sent=True)))  # type: ignore[arg-type]
    clock = ManualClock()
    summary = run(manifest(tmp_path, 1, provider="gmi"), server, clock=clock)
    assert summary.by_state == {"done": 1} and summary.possible_duplicates == 0
    assert server.received["list"] >= 2  # a miss, a wait, a second look
    assert any(4.0 <= s <= 5.01 for s in clock.slept)  # waited out the grace period


def test_a_worker_failure_stops_the_run_with_a_message_not_a_lost_callback(
    tmp_path: Path,
) -> None:
    server = FakeServer()

    def broken(request: HttpRequest) -> HttpResponse | None:
        if "task-result" in request.url:
            raise RuntimeError("a bug in the poll path")
        return None

    server.script += [broken] * 10
    summary = run(manifest(tmp_path, 2), server)
    assert summary.exit_code == 3
    assert "internal error" in (summary.stopped or "") and "RuntimeError" in (summary.stopped or "")
    assert summary.crash and "a bug in the poll path" in summary.crash
    states = {rec.state for rec in load_state(tmp_path / "out").jobs.values()}
    assert "submitting" not in states  # every sent submit has its answer journaled


def test_a_key_with_a_trailing_newline_is_trimmed_and_works(tmp_path: Path) -> None:
    server = FakeServer()
    summary = run(manifest(tmp_path, 1), server, env={**KEYS, "NOVITA_API_KEY": "sk-x\n"})
    assert summary.exit_code == 0


def test_a_key_with_a_newline_inside_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    server = FakeServer()
    with pytest.raises(ManifestError, match="NOVITA_API_KEY contains a control character"):
        run(manifest(tmp_path, 1), server, env={**KEYS, "NOVITA_API_KEY": "sk-x\nsk-y"})
    assert server.received == {}


def test_polls_per_job_stay_few_when_the_provider_gives_an_eta(tmp_path: Path) -> None:
    server = FakeServer()
    summary = run(manifest(tmp_path, 4), server)
    assert summary.by_state == {"done": 4}
    assert sum(server.polls.values()) / 4 <= 3


def test_spread_routing_keeps_every_provider_busy_at_once(tmp_path: Path) -> None:
    """Three providers of two slots each: all six slots work from the start, not two."""
    server = FakeServer()
    path = manifest(tmp_path, 12, provider="[novita, gmi, aimlapi]", extra="routing: spread\n")
    summary = run(path, server)
    assert summary.by_state == {"done": 12}
    made: dict[str | None, int] = {}
    for rec in load_state(tmp_path / "out").jobs.values():
        made[rec.provider] = made.get(rec.provider, 0) + 1
    assert set(made) == {"novita", "gmi", "aimlapi"} and min(made.values()) >= 2, made
    first_submits = [e for e in events(tmp_path, ev.SubmitIntent)][:6]
    assert {e.provider for e in first_submits} == {"novita", "gmi", "aimlapi"}  # type: ignore[attr-defined]


def test_spread_prefers_the_cheaper_provider_when_slots_are_free(tmp_path: Path) -> None:
    """Fewer jobs than slots: the cheaper provider takes them all."""
    server = FakeServer()
    prices = "prices: {novita: {6s-768P: 0.30}, aimlapi: {6s-768P: 0.20}}\n"
    path = manifest(tmp_path, 2, provider="[novita, aimlapi]", extra="routing: spread\n" + prices)
    run(path, server)
    assert {rec.provider for rec in load_state(tmp_path / "out").jobs.values()} == {"aimlapi"}


def test_spread_fails_over_from_a_provider_that_goes_out_of_service(tmp_path: Path) -> None:
    server = FakeServer()
    server.script += [on_submit(NOVITA_AUTH, "/novita/")] * 20  # type: ignore[list-item]
    path = manifest(tmp_path, 10, provider="[novita, aimlapi]", extra="routing: spread\n")
    summary = run(path, server)
    assert summary.by_state == {"done": 10}
    [down] = summary.out_of_service
    assert down.provider == "novita"
    assert {rec.provider for rec in load_state(tmp_path / "out").jobs.values()} == {"aimlapi"}
