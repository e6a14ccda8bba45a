"""What `/_sim/stats` calls a duplicate submit: an accepted task whose body repeats another
accepted one and that the client never polled, retrieved or downloaded (paid for, unused)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
from simwire import AUTH, Client, ManualClock, Sim, download, stats

from hailuo_batch.simulator.links import LinkSigner
from hailuo_batch.simulator.video import VideoSpec

SUBMIT = "/novita/v3/async/minimax-hailuo-02"
RESULT = "/novita/v3/async/task-result"
BODY = {"prompt": "two samples of one request", "duration": 6}


async def submit(client: Client, body: dict[str, Any] = BODY) -> str:
    response = await client.post(SUBMIT, json=body, headers=AUTH)
    assert response.status == 200, await response.text()
    task_id: str = (await response.json())["task_id"]
    return task_id


async def poll(client: Client, task_id: str) -> dict[str, Any]:
    response = await client.get(RESULT, params={"task_id": task_id}, headers=AUTH)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def counted(client: Client) -> tuple[int, int, int]:
    """(submitted, identical_submits, duplicate_submits) for Novita, checked against totals."""
    seen = await stats(client)
    novita = seen["by_provider"]["novita"]
    assert seen["duplicate_submits"] == novita["duplicate_submits"]
    return novita["submitted"], novita["identical_submits"], novita["duplicate_submits"]


async def test_two_identical_submits_both_polled_are_not_duplicates(sim: Sim) -> None:
    """`samples: 2` sends one body twice on purpose; both tasks are used."""
    client = await sim()
    for task_id in [await submit(client), await submit(client)]:
        await poll(client, task_id)
    assert await counted(client) == (2, 1, 0)


async def test_one_of_two_identical_submits_never_polled_is_a_duplicate(sim: Sim) -> None:
    """A lost reply then a blind resubmit: the first task is paid for and never asked about."""
    client = await sim()
    await submit(client)  # its reply was "lost": the client never learns this id
    await poll(client, await submit(client))
    await submit(client, {"prompt": "another request"})  # unused, but not a repeat
    assert await counted(client) == (3, 1, 1)


async def test_a_group_nobody_polled_yet_counts_all_but_one(sim: Sim) -> None:
    """Taken before any poll, three equal submits read as two duplicates: one was meant."""
    client = await sim()
    ids = [await submit(client) for _ in range(3)]
    assert await counted(client) == (3, 2, 2)
    await poll(client, ids[1])
    assert await counted(client) == (3, 2, 2)
    await poll(client, ids[0])
    assert await counted(client) == (3, 2, 1)


async def test_unknown_ids_and_refused_polls_use_nothing(sim: Sim) -> None:
    client = await sim(valid_keys={"novita": "k"})
    headers = {"Authorization": "Bearer k"}
    ids = [
        (await (await client.post(SUBMIT, json=BODY, headers=headers)).json())["task_id"]
        for _ in range(2)
    ]
    refused = await client.get(RESULT, params={"task_id": ids[0]}, headers=AUTH)
    assert refused.status == 403
    assert (await client.get(RESULT, params={"task_id": "nope"}, headers=headers)).status == 404
    assert await counted(client) == (2, 1, 1)


async def test_a_download_alone_counts_as_use(sim: Sim, tmp_path: Path) -> None:
    """A link names its task, so fetching it shows the client knew the task."""
    state_file = tmp_path / "tasks.jsonl"
    client = await sim(ManualClock(), state_file=str(state_file), gen_seconds=1.0)
    used, unpolled = await submit(client), await submit(client)
    await poll(client, used)
    assert await counted(client) == (2, 1, 1)
    # Mint a link for the unpolled task with the secret the state file keeps.
    header = orjson.loads(state_file.read_bytes().splitlines()[0])
    signer = LinkSigner(bytes.fromhex(header["secret"]), time.monotonic, 0.0)
    link = signer.mint(VideoSpec(1366, 768, 6), 3600 + time.time(), unpolled)
    status, _, _ = await download(
        client, str(client.make_url(f"/novita/cos/prod/{link.token}.mp4"))
    )
    assert status == 200
    assert await counted(client) == (2, 1, 0)


async def test_what_was_asked_about_survives_a_restart(sim: Sim, tmp_path: Path) -> None:
    """With a state file, a task polled by an earlier instance stays used."""
    state_file = str(tmp_path / "tasks.jsonl")
    first = await sim(state_file=state_file)
    await poll(first, await submit(first))
    await first.close()

    second = await sim(state_file=state_file)
    assert await counted(second) == (0, 0, 0)  # nothing this instance accepted
    await poll(second, await submit(second))
    assert await counted(second) == (1, 1, 0)


async def test_a_blind_resubmit_after_a_restart_is_a_duplicate(sim: Sim, tmp_path: Path) -> None:
    """The lost task was accepted before the restart; its repeat, here, counts here."""
    state_file = str(tmp_path / "tasks.jsonl")
    first = await sim(state_file=state_file)
    await submit(first)
    await first.close()

    second = await sim(state_file=state_file)
    await poll(second, await submit(second))
    assert await counted(second) == (1, 1, 1)


async def test_ideal_makespan_schedules_actual_durations_on_the_slots(sim: Sim) -> None:
    """Five 10 s tasks on two slots, submitted 3 s apart: the client's wall time is longer,
    the ideal (all submitted at once) is three rounds: 30 s."""
    clock = ManualClock()
    client = await sim(clock=clock, gen_seconds=10, jitter=0.0, max_concurrent=2)
    for i in range(5):
        await submit(client, {"prompt": f"scene {i}", "duration": 6})
        clock.advance(3)
    seen = await stats(client)
    assert seen["by_provider"]["novita"]["slots_full_after_s"] == 3.0  # the second task
    assert seen["by_provider"]["novita"]["ideal_makespan_s"] == 30.0
    assert seen["ideal_makespan_s"] == 30.0
    assert seen["by_provider"]["gmi"]["ideal_makespan_s"] == 0.0
    assert seen["by_provider"]["gmi"]["slots_full_after_s"] is None


async def test_submit_latency_delays_each_answer_within_its_range(sim: Sim) -> None:
    client = await sim(submit_latency=(0.2, 0.3))
    for i in range(3):
        started = time.perf_counter()
        await submit(client, {"prompt": f"scene {i}", "duration": 6})
        assert 0.2 <= time.perf_counter() - started < 0.6
