"""Contract tests: every adapter, through the real aiohttp transport, against the simulator.

The adapter tests next to this file feed recorded bodies to pure adapters; here the same
adapters talk HTTP to the simulator (`hailuo_batch.simulator`), so a mismatch between what
an adapter sends or reads and what the simulated provider does shows up as a failure:
videos are generated, downloaded and probed; refusals, outages, injected faults and lost
submit replies are classified as the engine needs them. Times are in seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar

import orjson
import pytest

from hailuo_batch.core.capabilities import (
    CAPABILITIES_BY_PROVIDER,
    MODEL_RULES,
    RESOLUTION_ORDER,
    ModelRules,
)
from hailuo_batch.core.http import (
    Absent,
    Found,
    HttpRequest,
    HttpResponse,
    SubmitImages,
    TaskStatus,
)
from hailuo_batch.core.jobs import ErrorKind, ImageRef, Reference, VideoRequest
from hailuo_batch.errors import ProviderError, TransportError
from hailuo_batch.manifest.images import data_uri, image_ref
from hailuo_batch.outputs.probe import probe_video
from hailuo_batch.providers import Provider, TaskFinder, make_provider
from hailuo_batch.simulator import DEFAULT_FAULTS, SimConfig, running_in_process
from hailuo_batch.transport import AiohttpTransport

T = TypeVar("T")

IMAGES = Path(__file__).resolve().parents[2] / "samples" / "images"
KEY = "test-key"
URL_FRAME = "https://example.com/frame.jpg"  # never fetched: the simulator assumes 16:9
PROMPT = "A red fox trots through fresh snow at dawn [Push in]"
FAST = SimConfig(gen_seconds=0.1, seed=1)
POLL_EVERY = 0.05
DEADLINE = 15.0  # a task takes gen_seconds +-10 %; this only bounds a broken adapter


@dataclass(frozen=True, slots=True)
class Sim:
    """A running simulator and one transport to it (both closed by `simulated`)."""

    base: str
    transport: AiohttpTransport

    def adapter(self, name: str, key: str = KEY) -> Provider:
        return make_provider(name, key, f"{self.base}/{name}")

    async def stats(self) -> dict[str, Any]:
        """`GET /_sim/stats` (the fault middleware never touches `/_sim/*`)."""
        answer = await self.transport.send(HttpRequest("GET", f"{self.base}/_sim/stats"))
        assert answer.status == 200
        loaded: dict[str, Any] = orjson.loads(answer.body)
        return loaded

    async def provider_stats(self, name: str) -> dict[str, Any]:
        by_provider: dict[str, dict[str, Any]] = (await self.stats())["by_provider"]
        return by_provider[name]


@asynccontextmanager
async def simulated(config: SimConfig = FAST) -> AsyncIterator[Sim]:
    async with running_in_process(config) as base, AiohttpTransport() as transport:
        yield Sim(base, transport)


async def call(sim: Sim, request: HttpRequest, parse: Callable[[HttpResponse], T]) -> T:
    """Send through the real transport and read the answer with the adapter's parser."""
    return parse(await sim.transport.send(request))


async def status_of(sim: Sim, adapter: Provider, task_id: str) -> tuple[TaskStatus, bool]:
    """Poll once, following MiniMax's files/retrieve hop; also says whether it was taken."""
    status = await call(sim, adapter.poll_request(task_id), adapter.parse_poll)
    if status.state != "finalizing":
        return status, False
    hop = adapter.retrieve_request(status)
    assert hop is not None, "a finalizing status must say how to get the URL"
    return await call(sim, hop, adapter.parse_retrieve), True


async def follow(sim: Sim, adapter: Provider, task_id: str) -> tuple[TaskStatus, bool]:
    """Poll until the task ends; every status on the way must be one the adapter knows."""
    retrieved = False
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        status, hopped = await status_of(sim, adapter, task_id)
        retrieved = retrieved or hopped
        assert status.warning is None, status.warning
        if status.state in ("succeeded", "failed"):
            return status, retrieved
        await asyncio.sleep(POLL_EVERY)
    raise AssertionError(f"{adapter.name} task {task_id} did not end in {DEADLINE} s")


# -- 1. every adapter makes real videos --------------------------------------------------

SHORT_SIDE = {"512P": 512, "720P": 720, "768P": 768, "1080P": 1080}
# 2K's frame size is not documented: the simulator's choice is only bounded here.
LANDSCAPE_PORTRAIT = "fox-portrait.png"  # 720x1280: a 9:16 first frame
LANDSCAPE = "car.jpg"  # 16:9


@dataclass(frozen=True, slots=True)
class Case:
    """One generation: provider, request (media as manifest text), and the video expected."""

    provider: str
    label: str
    request: VideoRequest

    @property
    def id(self) -> str:
        return f"{self.provider}-{self.request.model}-{self.label}"


def _image(caps_local: bool, name: str = LANDSCAPE) -> ImageRef:
    """A sample image as the provider can take it: the local file, or a URL."""
    return image_ref(name, IMAGES) if caps_local else ImageRef(URL_FRAME, "url")


def _cases(provider: str) -> list[Case]:
    """For each model the provider sells: every resolution, the longest duration, and each
    frame, subject and reference mode it sells; what the model needs (an image, a
    subject) is always given. Few distinct looks, so each is encoded once per process."""
    caps = CAPABILITIES_BY_PROVIDER[provider]
    cases = []
    for model, offer in caps.offers.items():
        rules = MODEL_RULES[model]
        local = offer.local_images
        resolutions = sorted(offer.resolutions or rules.resolutions, key=RESOLUTION_ORDER.index)
        durations = offer.durations or rules.durations
        usual = rules.default_resolution
        base = VideoRequest(
            model, PROMPT, rules.default_duration, usual if usual in resolutions else resolutions[0]
        )
        if rules.image == "required":
            base = replace(base, image=_image(local))
        if rules.subject:
            base = replace(base, subject_reference=_image(local), prompt="the same hero, later")
        for resolution in resolutions:
            request = replace(base, resolution=resolution)
            if resolution in rules.needs_first_frame:
                request = replace(request, image=_image(local))
            cases.append(Case(provider, f"{resolution}", request))
        longest = max(d for d in durations if _fits(rules, base.resolution, d))
        if longest != base.duration:
            cases.append(Case(provider, f"{longest}s", replace(base, duration=longest)))
        if rules.image == "optional" and not rules.subject:
            portrait = replace(base, image=_image(local, LANDSCAPE_PORTRAIT))
            cases.append(Case(provider, "first-frame", portrait))
        ends = rules.end_frame_resolutions & set(resolutions)
        if ends and offer.end_frame:
            resolution = sorted(ends, key=RESOLUTION_ORDER.index)[0]
            frames = replace(
                base,
                resolution=resolution,
                image=_image(local),
                end_image=_image(local, "car-end.jpg"),
            )
            cases.append(Case(provider, "first-last-frame", frames))
        if rules.references and offer.references:
            refs = (Reference("image", _image(local)),)
            cases.append(Case(provider, "references", replace(base, references=refs)))
    return cases


def _fits(rules: ModelRules, resolution: str, duration: int) -> bool:
    longest = rules.max_duration_by_resolution.get(resolution)
    return longest is None or duration <= longest


def _request(resolution: str, duration: int = 6) -> VideoRequest:
    """A text-to-video Hailuo-02 request: every provider sells it."""
    return VideoRequest("hailuo-02", PROMPT, duration, resolution)


PROVIDERS = tuple(CAPABILITIES_BY_PROVIDER)
CASES = [case for name in PROVIDERS for case in _cases(name)]


def _wire_images(request: VideoRequest) -> SubmitImages:
    """Media as the engine sends them: local files as data URIs, URLs as they are."""
    return SubmitImages(
        first=data_uri(request.image) if request.image else None,
        last=data_uri(request.end_image) if request.end_image else None,
        subject=data_uri(request.subject_reference) if request.subject_reference else None,
        references=tuple((ref.kind, data_uri(ref.media)) for ref in request.references),
    )


def test_cases_cover_everything_each_provider_sells() -> None:
    """Every model x provider pair of the table, every resolution and mode it sells."""
    for provider, caps in CAPABILITIES_BY_PROVIDER.items():
        cases = [case for case in CASES if case.provider == provider]
        assert {case.request.model for case in cases} == caps.models, provider
        for model, offer in caps.offers.items():
            sold = offer.resolutions or MODEL_RULES[model].resolutions
            made = {c.request.resolution for c in cases if c.request.model == model}
            assert made == set(sold), (provider, model)


def expected_size(request: VideoRequest) -> tuple[int, int] | None:
    """The frame the request asks for; None where undocumented (2K)."""
    short = SHORT_SIDE.get(request.resolution)
    if short is None:
        return None
    frame = request.image or request.subject_reference
    if frame is not None and frame.width and frame.height and request.subject_reference is None:
        aspect = frame.width / frame.height
    else:
        aspect = 16 / 9
    long = 2 * round(short * max(aspect, 1 / aspect) / 2)
    return (long, short) if aspect >= 1 else (short, long)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_adapter_makes_a_real_video(case: Case, tmp_path: Path) -> None:
    """Submit, poll (and any extra hop), download: an H.264 MP4 of the requested size and
    length, with a sound track exactly where the model makes one."""
    async with simulated() as sim:
        adapter = sim.adapter(case.provider)
        submit = adapter.submit_request(case.request, _wire_images(case.request))
        task_id = await call(sim, submit, adapter.parse_submit)
        assert task_id

        status, _ = await follow(sim, adapter, task_id)

        assert status.state == "succeeded", status
        assert status.video_url is not None
        assert status.video_url.startswith(f"{sim.base}/{case.provider}/")
        dest = tmp_path / "v.mp4"
        downloaded = await sim.transport.download(status.video_url, dest)
        counted = await sim.provider_stats(case.provider)

    assert downloaded.status == 200
    assert downloaded.bytes == dest.stat().st_size > 0
    video = probe_video(dest)
    assert video["codec"] == "h264"
    size = expected_size(case.request)
    width, height = video["width"], video["height"]
    assert isinstance(width, int) and isinstance(height, int)
    if size is not None:
        assert (width, height) == size
    else:
        assert min(width, height) >= 1080
    duration = video["duration"]
    assert isinstance(duration, float)
    assert abs(duration - case.request.duration) <= 0.1
    assert (video["audio"] is not None) == MODEL_RULES[case.request.model].audio
    assert (counted["submitted"], counted["refused"], counted["downloads"]) == (1, 0, 1)


# -- 2. refusals, outages and unknown tasks are classified ---------------------------------

# Every protocol each provider speaks: its own, on Hailuo-02 (which all sell), and MiniMax's
# V2 wire for H3, at MiniMax and passed through at Novita.
H3 = VideoRequest("h3", PROMPT, 6, "768P")
SAMPLE = {"hailuo-02": _request("768P"), "h3": H3}
UNKNOWN_TASK = {"hailuo-02": "123456789012345", "h3": "v2:123456789012345"}  # V2 ids: `v2:`
WIRE_PAIRS = [*((name, "hailuo-02") for name in PROVIDERS), ("minimax", "h3"), ("novita", "h3")]
WIRES = [
    pytest.param(name, model, id=name if model == "hailuo-02" else f"{name}-{model}")
    for name, model in WIRE_PAIRS
]
# fal's queue takes any JSON object and its runner checks the input: a refused parameter
# ends the request, paid for, and its result GET answers 422 (docs/providers/fal.md §3-4).
RUNNER_CHECKS = ("fal",)
REFUSED = [
    *(
        pytest.param(name, request, id=f"{label}-{name}")
        for name in PROVIDERS
        if name not in RUNNER_CHECKS
        for request, label in (
            (_request("1080P", 10), "1080P-10s"),
            (replace(_request("768P"), prompt="x" * 2001), "prompt-2001-chars"),
        )
    ),
    *(
        pytest.param(name, request, id=f"h3-{label}-{name}")
        for name in ("minimax", "novita")
        for request, label in (
            (replace(H3, duration=16), "16s"),
            (replace(H3, prompt="x" * 7001), "prompt-7001-chars"),
        )
    ),
]

TOO_LONG = replace(_request("768P"), prompt="x" * 2001)


@pytest.mark.parametrize(("provider", "request_"), REFUSED)
async def test_refused_parameters_are_invalid_input(provider: str, request_: VideoRequest) -> None:
    """A request the provider refuses for its parameters is `invalid_input`, and is not paid."""
    async with simulated() as sim:
        adapter = sim.adapter(provider)
        submit = adapter.submit_request(request_, SubmitImages())
        with pytest.raises(ProviderError) as caught:
            await call(sim, submit, adapter.parse_submit)
        counted = await sim.provider_stats(provider)
    assert caught.value.kind == "invalid_input", caught.value
    assert not caught.value.retryable
    assert (counted["submitted"], counted["refused"]) == (0, 1)


@pytest.mark.parametrize("provider", RUNNER_CHECKS)
async def test_parameters_the_runner_refuses_fail_the_paid_task(provider: str) -> None:
    """The queue takes the request and charges it; the result GET refuses it: a failed
    task with `invalid_input`, which the engine does not submit again."""
    async with simulated() as sim:
        adapter = sim.adapter(provider)
        submit = adapter.submit_request(TOO_LONG, SubmitImages())
        task_id = await call(sim, submit, adapter.parse_submit)
        status, retrieved = await follow(sim, adapter, task_id)
        counted = await sim.provider_stats(provider)
    assert (status.state, status.failure, retrieved) == ("failed", "invalid_input", True)
    assert "prompt" in status.message
    assert (counted["submitted"], counted["refused"], counted["retrieves"]) == (1, 0, 1)


@pytest.mark.parametrize("provider", RUNNER_CHECKS)
def test_what_no_endpoint_can_make_is_refused_unsent(provider: str) -> None:
    """1080P comes from the pro tier, which makes 6 s: asking it for 10 s would be paid for
    and refused, so the adapter refuses it before sending."""
    with pytest.raises(ProviderError) as caught:
        make_provider(provider, KEY).submit_request(_request("1080P", 10), SubmitImages())
    assert caught.value.kind == "invalid_input"


Refusing = Literal["wrong-key", "auth", "balance", "down"]
"""A wrong key (`valid_keys`), or one of the simulator's outages."""


def refusing(provider: str, how: Refusing) -> SimConfig:
    if how == "wrong-key":
        return replace(FAST, valid_keys={provider: "right"})
    return replace(FAST, outages={provider: how})


@pytest.mark.parametrize(("provider", "model"), WIRES)
@pytest.mark.parametrize(
    ("how", "kind", "status"),
    [
        ("wrong-key", "auth", None),
        ("auth", "auth", None),
        ("balance", "quota", None),
        ("down", "transient", 503),  # the engine retries it: the status says why
    ],
)
async def test_key_and_outage_refusals_are_classified(
    provider: str, model: str, how: Refusing, kind: ErrorKind, status: int | None
) -> None:
    """A wrong key is `auth`, no balance `quota`, a service down `transient` 503 (retryable)."""
    async with simulated(refusing(provider, how)) as sim:
        adapter = sim.adapter(provider)
        submit = adapter.submit_request(SAMPLE[model], SubmitImages())
        with pytest.raises(ProviderError) as caught:
            await call(sim, submit, adapter.parse_submit)
        counted = await sim.provider_stats(provider)
    error = caught.value
    assert error.kind == kind, error
    assert error.provider == provider
    assert error.retryable == (kind == "transient")
    if status is not None:
        assert error.status == status
    assert (counted["submitted"], counted["refused"]) == (0, 1)
    assert KEY not in str(error)


@pytest.mark.parametrize(("provider", "model"), WIRES)
async def test_a_wrong_key_is_auth_on_polls_too(provider: str, model: str) -> None:
    """The engine stops the run on `auth` from a poll: every provider's poll says so."""
    async with simulated(replace(FAST, valid_keys={provider: "right"})) as sim:
        adapter = sim.adapter(provider)
        with pytest.raises(ProviderError) as caught:
            await call(sim, adapter.poll_request(UNKNOWN_TASK[model]), adapter.parse_poll)
    assert caught.value.kind == "auth", caught.value


# What an unknown id is, as observed: Novita/Highway/GMI/AIMLAPI answer HTTP 404 (read as
# `provider_error`); MiniMax answers HTTP 200 with base_resp 2013 "invalid params" on v1,
# and (UNVERIFIED) HTTP 400 "invalid task_id (2013)" on V2; fal 404; Replicate an RFC 7807
# 404 (its wording UNVERIFIED).
UNKNOWN_TASK_KIND: dict[str, ErrorKind] = {
    "novita": "provider_error",
    "highway": "provider_error",
    "gmi": "provider_error",
    "aimlapi": "provider_error",
    "minimax": "invalid_input",
    "fal": "provider_error",  # HTTP 404 (its body is UNVERIFIED)
    "replicate": "provider_error",
}


@pytest.mark.parametrize(("provider", "model"), WIRES)
async def test_polling_an_unknown_task_is_a_final_error(provider: str, model: str) -> None:
    """Polling an id the provider never issued raises a non-retryable error, never a status."""
    async with simulated() as sim:
        adapter = sim.adapter(provider)
        with pytest.raises(ProviderError) as caught:
            await call(sim, adapter.poll_request(UNKNOWN_TASK[model]), adapter.parse_poll)
    assert caught.value.kind == UNKNOWN_TASK_KIND[provider], caught.value
    assert not caught.value.retryable


# -- 3. injected faults are seen and classified -------------------------------------------

FAULTY = SimConfig(gen_seconds=0.1, fault_rate=0.3, slow_seconds=0.05)  # seeded per test
SUBMITS, POLLS = 60, 60
HARD_FAULTS = ("rate-limit", "server-error", "drop", "bad-json")  # the client sees no answer


def fault_seen(error: ProviderError | TransportError) -> str:
    """Which injected fault an error is, failing the test if it is misclassified."""
    if isinstance(error, TransportError):
        assert error.sent, "a connection closed after sending may have been received"
        return "drop"
    if error.kind == "rate_limited":
        assert error.retry_after == FAULTY.retry_after, error
        return "rate-limit"
    if error.kind == "transient" and error.status is not None and error.status >= 500:
        return "server-error"
    if error.kind == "transient" and error.status == 200 and "malformed JSON" in error.message:
        return "bad-json"
    raise AssertionError(f"misclassified fault: {error!r}")


@dataclass
class Observed:
    """Client-side tallies: outcome kind per exchange, and HTTP statuses of rate limits."""

    kinds: Counter[str]
    rate_limit_statuses: set[int]

    async def exchange(
        self, sim: Sim, request: HttpRequest, parse: Callable[[HttpResponse], T]
    ) -> T | None:
        """One request; a success that took `slow_seconds` or more counts as `slow`."""
        started = time.perf_counter()
        try:
            result = await call(sim, request, parse)
        except (ProviderError, TransportError) as error:
            kind = fault_seen(error)
            self.kinds[kind] += 1
            if isinstance(error, ProviderError) and kind == "rate-limit":
                assert error.status is not None
                self.rate_limit_statuses.add(error.status)
            return None
        slow = time.perf_counter() - started >= 0.9 * FAULTY.slow_seconds
        self.kinds["slow" if slow else "ok"] += 1
        return result


@pytest.mark.parametrize(("provider", "model"), WIRES)
async def test_injected_faults_are_classified_for_the_engine(provider: str, model: str) -> None:
    """At a 30 % fault rate every default kind occurs and each reads as the engine needs.

    Counted per protocol, with 120 sequential exchanges (60 submits, 60 polls) at 6 % per
    kind. Polls are GETs, which aiohttp retries once by itself after a dropped connection:
    the client sees only the retry's fault, so a drop shows only on submits (POST), unseen
    in 60 with probability 0.94**60 ~ 2 %; any other kind 0.94**120 < 0.1 %. The seeded
    draws make each run deterministic, so this is a choice of seeds, not a flaky test.
    Submits are compared exactly with the simulator's counts; on polls the client may see
    fewer drops than were injected (never more).
    """
    # Each protocol its own seed, so the runs are independent evidence.
    async with simulated(replace(FAULTY, seed=WIRE_PAIRS.index((provider, model)))) as sim:
        adapter = sim.adapter(provider)
        submits = Observed(Counter(), set())
        task_ids = []
        for _ in range(SUBMITS):
            submit = adapter.submit_request(SAMPLE[model], SubmitImages())
            task_id = await submits.exchange(sim, submit, adapter.parse_submit)
            if task_id is not None:
                task_ids.append(task_id)
        after_submits = await sim.provider_stats(provider)
        assert task_ids, "no submit got through"

        polls = Observed(Counter(), set())
        for index in range(POLLS):
            poll = adapter.poll_request(task_ids[index % len(task_ids)])
            status = await polls.exchange(sim, poll, adapter.parse_poll)
            assert status is None or status.warning is None
        after_polls = await sim.provider_stats(provider)

    on_submits = Counter(after_submits["faults_by_kind"])
    on_polls = Counter(after_polls["faults_by_kind"]) - on_submits
    seen = submits.kinds + polls.kinds
    assert set(on_submits + on_polls) == set(DEFAULT_FAULTS)
    for fault in DEFAULT_FAULTS:
        assert seen[fault] >= 1, f"{provider}: {fault} never seen by the client"
    # Submits: one draw per request, so the client saw exactly what was injected, and a
    # slow answer is a normal one (the submit created its task).
    for kind in HARD_FAULTS:
        assert submits.kinds[kind] == on_submits[kind], kind
    assert submits.kinds["ok"] + submits.kinds["slow"] == SUBMITS - sum(
        on_submits[kind] for kind in HARD_FAULTS
    )
    assert submits.kinds["slow"] >= on_submits["slow"]
    assert after_submits["submitted"] == len(task_ids)
    assert after_submits["duplicate_submits"] == len(task_ids) - 1  # all the same body
    # Polls: a hidden retry after a drop draws again, and only that draw is seen.
    hidden = on_polls["drop"] - polls.kinds["drop"]
    assert hidden >= 0
    for kind in ("rate-limit", "server-error", "bad-json"):
        assert polls.kinds[kind] == on_polls[kind], kind
    assert polls.kinds["ok"] + polls.kinds["slow"] == after_polls["polls"]
    assert sum(polls.kinds.values()) == POLLS
    # MiniMax's v1 answers rate limits both as HTTP 429 and as HTTP 200 + base_resp 1002.
    statuses = submits.rate_limit_statuses | polls.rate_limit_statuses
    assert statuses == ({200, 429} if (provider, model) == ("minimax", "hailuo-02") else {429})


async def server_error_status(
    sim: Sim, request: HttpRequest, parse: Callable[[HttpResponse], T]
) -> int:
    """The HTTP status of an injected server error, checking it reads as one."""
    with pytest.raises(ProviderError) as caught:
        await call(sim, request, parse)
    assert fault_seen(caught.value) == "server-error"
    assert caught.value.status is not None
    return caught.value.status


@pytest.mark.parametrize(("provider", "model"), WIRES)
async def test_every_server_error_shape_is_transient(provider: str, model: str) -> None:
    """500 and 503 in the provider's envelope and a gateway's HTML 502 are all `transient`."""
    # Faults strike before the handler, so the poll's made-up id is never looked up.
    config = replace(FAST, fault_rate=1.0, faults=("server-error",))
    on_submits, on_polls = set(), set()
    async with simulated(config) as sim:
        adapter = sim.adapter(provider)
        submit = adapter.submit_request(SAMPLE[model], SubmitImages())
        poll = adapter.poll_request(UNKNOWN_TASK[model])
        for _ in range(15):
            on_submits.add(await server_error_status(sim, submit, adapter.parse_submit))
            on_polls.add(await server_error_status(sim, poll, adapter.parse_poll))
    assert on_submits == on_polls == {500, 502, 503}


# -- 4. a lost submit reply is found again by listing --------------------------------------


LISTING = ("gmi",)


def test_listing_providers_are_task_finders() -> None:
    """Exactly the providers the table says can list tasks have adapters that find them."""
    can_list = {n for n, caps in CAPABILITIES_BY_PROVIDER.items() if caps.list_grace is not None}
    assert can_list == set(LISTING)
    finders = {name for name in PROVIDERS if isinstance(make_provider(name, KEY), TaskFinder)}
    assert finders == set(LISTING)


@pytest.mark.parametrize("provider", LISTING)
async def test_lost_submit_reply_is_reconciled_by_listing(provider: str, tmp_path: Path) -> None:
    """The submit's answer is lost; the task list finds the task it created, which then works."""
    # `lost-reply` applies to submits only, so the list and poll requests are never faulted.
    config = replace(FAST, fault_rate=1.0, faults=("lost-reply",))
    async with simulated(config) as sim:
        adapter = sim.adapter(provider)
        assert isinstance(adapter, TaskFinder)
        submit = adapter.submit_request(_request("768P"), SubmitImages())
        assert submit.json is not None
        with pytest.raises(TransportError) as caught:
            await sim.transport.send(submit)
        assert caught.value.sent

        listed = await sim.transport.send(adapter.list_request(submit.json))
        assert orjson.loads(listed.body)["total"] == 1  # the one task the lost submit made
        found = adapter.find_task(listed, submit.json)
        assert isinstance(found, Found)
        task_id = found.task_id
        assert adapter.find_task(listed, submit.json, exclude={task_id}) == Absent()
        other = replace(_request("768P"), prompt="another prompt")
        other_body = adapter.submit_request(other, SubmitImages()).json
        assert other_body is not None
        assert adapter.find_task(listed, other_body) == Absent()
        counted = await sim.provider_stats(provider)

        status, _ = await follow(sim, adapter, task_id)
        assert status.state == "succeeded" and status.video_url is not None
        downloaded = await sim.transport.download(status.video_url, tmp_path / "v.mp4")

    assert (counted["submitted"], counted["lost_replies"], counted["lists"]) == (1, 1, 1)
    assert downloaded.status == 200
