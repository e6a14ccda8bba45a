"""Fault injection: every configured kind happens, strikes before the request takes effect,
and is counted; `lost-reply` creates the task yet the client sees a dropped connection."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aiohttp
import orjson
import pytest
from simwire import AUTH, Client, Sim, download, probe, stats

NOVITA_SUBMIT = "/novita/v3/async/minimax-hailuo-02"
NOVITA_POLL = "/novita/v3/async/task-result"
GMI_REQUESTS = "/gmi/api/v1/ie/requestqueue/apikey/requests"


async def outcome(client: Client, method: str, path: str, **kwargs: Any) -> tuple[str, Any]:
    """What a client sees: a fault kind it can recognise, or ("ok", parsed JSON)."""
    try:
        async with client.request(method, path, headers=AUTH, **kwargs) as response:
            raw = await response.read()
            if response.status == 429:
                assert response.headers["Retry-After"] == "1"
                return "rate-limit", None
            if response.status >= 500:
                return "server-error", None
            try:
                return "ok", orjson.loads(raw)
            except orjson.JSONDecodeError:
                assert response.status == 200
                return "bad-json", None
    except aiohttp.ServerDisconnectedError:
        return "drop", None


async def until_ok(client: Client, method: str, path: str, **kwargs: Any) -> Any:
    """Retry as a client would until an answer parses."""
    for _ in range(50):
        seen, body = await outcome(client, method, path, **kwargs)
        if seen == "ok":
            return body
    raise AssertionError(f"{method} {path} never answered")


async def test_every_default_kind_occurs_and_the_client_sees_exactly_those(sim: Sim) -> None:
    """At a 30 % rate over 150 polls, each kind occurs and matches what the client observed."""
    client = await sim(fault_rate=0.3, seed=11, slow_seconds=0.01)
    task_id = (await until_ok(client, "POST", NOVITA_SUBMIT, json={"prompt": "p"}))["task_id"]
    before = (await stats(client))["faults_by_kind"]
    seen = Counter(
        [
            (await outcome(client, "GET", NOVITA_POLL, params={"task_id": task_id}))[0]
            for _ in range(150)
        ]
    )
    after = await stats(client)
    injected = Counter(after["faults_by_kind"]) - Counter(before)
    assert set(injected) == {"rate-limit", "server-error", "slow", "drop", "bad-json"}
    for kind in ("rate-limit", "server-error", "drop", "bad-json"):
        assert seen[kind] == injected[kind], kind
    assert seen["ok"] == 150 - sum(injected.values()) + injected["slow"]
    assert 0.15 < sum(injected.values()) / 150 < 0.45
    assert after["faults_injected"] == sum(after["faults_by_kind"].values())
    assert after["by_provider"]["novita"]["faults_injected"] == after["faults_injected"]


async def test_faults_strike_before_the_submit_takes_effect(sim: Sim) -> None:
    client = await sim(fault_rate=1.0, faults=("rate-limit", "server-error", "drop", "bad-json"))
    bodies = [
        ("/novita/v3/async/minimax-hailuo-02", {"prompt": "p"}),
        (
            "/gmi/api/v1/ie/requestqueue/apikey/requests",
            {"model": "Minimax-Hailuo-02", "payload": {"prompt": "p"}},
        ),
        ("/aimlapi/v2/video/generations", {"model": "minimax/hailuo-02", "prompt": "p"}),
        ("/minimax/v1/video_generation", {"model": "MiniMax-Hailuo-02", "prompt": "p"}),
    ]
    for path, body in bodies * 5:
        await outcome(client, "POST", path, json=body)
    counted = await stats(client)
    assert counted["submitted"] == 0 and counted["faults_injected"] == 20


async def test_rate_limits_come_in_each_providers_shape(sim: Sim) -> None:
    client = await sim(fault_rate=1.0, faults=("rate-limit",))
    novita = await client.post(NOVITA_SUBMIT, json={"prompt": "p"}, headers=AUTH)
    assert (novita.status, (await novita.json())["reason"]) == (429, "RATE_LIMIT_EXCEEDED")
    gmi = await client.get("/gmi/api/v1/ie/requestqueue/apikey/models", headers=AUTH)
    assert (gmi.status, set(await gmi.json())) == (429, {"error"})
    aiml = await client.get(
        "/aimlapi/v2/video/generations", params={"generation_id": "1"}, headers=AUTH
    )
    assert (aiml.status, (await aiml.json())["statusCode"]) == (429, 429)
    statuses = set()
    for _ in range(12):
        response = await client.post(
            "/minimax/v1/video_generation", json={"model": "video-01", "prompt": "p"}, headers=AUTH
        )
        assert response.headers["Retry-After"] == "1"
        assert (await response.json())["base_resp"]["status_code"] == 1002
        statuses.add(response.status)
    assert statuses == {200, 429}  # both are seen from MiniMax


async def test_lost_reply_creates_the_task_but_the_client_sees_a_drop(sim: Sim) -> None:
    """The submit is paid for and listed (so it can be reconciled) though no answer came back."""
    client = await sim(fault_rate=1.0, faults=("lost-reply",))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.post(
            GMI_REQUESTS,
            json={"model": "Minimax-Hailuo-02", "payload": {"prompt": "lost one"}},
            headers=AUTH,
        )
    listed = await client.get(GMI_REQUESTS, headers=AUTH)
    (entry,) = (await listed.json())["requests"]
    assert entry["payload"] == {"prompt": "lost one"}
    counted = await stats(client)
    assert (counted["submitted"], counted["lost_replies"]) == (1, 1)
    assert counted["faults_by_kind"] == {"lost-reply": 1}


async def test_a_refused_submit_under_lost_reply_is_not_a_lost_reply(sim: Sim) -> None:
    client = await sim(fault_rate=1.0, faults=("lost-reply",))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.post(NOVITA_SUBMIT, json={"prompt": ""}, headers=AUTH)
    counted = await stats(client)
    assert (counted["submitted"], counted["lost_replies"], counted["faults_injected"]) == (0, 0, 1)


async def test_stats_are_never_faulted(sim: Sim) -> None:
    client = await sim(fault_rate=1.0)
    for _ in range(10):
        assert (await client.get("/_sim/stats")).status == 200


async def test_slow_answers_arrive_late_but_whole(sim: Sim) -> None:
    client = await sim(fault_rate=1.0, faults=("slow",), slow_seconds=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await client.post(NOVITA_SUBMIT, json={"prompt": "p"}, headers=AUTH)
    assert response.status == 200 and (await response.json())["task_id"]
    assert loop.time() - started >= 0.2
    assert (await stats(client))["submitted"] == 1


async def test_downloads_can_be_cut_short(sim: Sim) -> None:
    """A `bad-json` on a download sends half the bytes under the full Content-Length."""
    client = await sim(fault_rate=0.5, faults=("bad-json",), seed=3)
    task_id = (await until_ok(client, "POST", NOVITA_SUBMIT, json={"prompt": "p"}))["task_id"]
    await asyncio.sleep(0.3)
    body = await until_ok(client, "GET", NOVITA_POLL, params={"task_id": task_id})
    url = body["videos"][0]["video_url"]
    results = []
    for _ in range(10):
        try:
            results.append(probe((await download(client, url))[2]).width)
        except aiohttp.ClientPayloadError:
            results.append(0)
    assert 0 in results and 1366 in results
