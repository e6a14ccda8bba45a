"""A simulator with a state file remembers its tasks: a new instance answers for them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from simwire import ManualClock, Sim, data_uri, download, probe, stats
from wires import GMI, WIRES, get_json, submit
from yarl import URL

from hailuo_batch.simulator import TaskFileError
from tests.helpers.cli import run_line


@pytest.fixture
def state_file(tmp_path: Path) -> str:
    return str(tmp_path / "sim" / "tasks.jsonl")


@pytest.mark.parametrize("provider", list(WIRES))
async def test_a_new_instance_polls_retrieves_and_serves_tasks_of_the_old(
    sim: Sim, state_file: str, provider: str
) -> None:
    """Tasks accepted before a restart succeed afterwards, and their video downloads."""
    wire = WIRES[provider]
    first = await sim(ManualClock(), state_file=state_file, gen_seconds=1.0)
    task_ids = [await submit(first, wire) for _ in range(2)]
    await first.close()

    clock = ManualClock()
    clock.now = 50.0  # another clock base: times travel as Unix seconds
    second = await sim(clock, state_file=state_file, gen_seconds=1.0)
    assert await wire.video_url(second, task_ids[0]) is None  # still generating
    clock.advance(5.0)
    for task_id in task_ids:
        url = await wire.video_url(second, task_id)
        assert url is not None
        status, content_type, data = await download(second, url)
        assert (status, content_type) == (200, "video/mp4")
        assert (probe(data).width, probe(data).height) == (1366, 768)
    assert (await stats(second))["submitted"] == 0  # counters are per instance


async def test_a_link_minted_before_the_restart_still_opens(sim: Sim, state_file: str) -> None:
    """The link secret lives in the state file, and tokens carry Unix-time expiry."""
    wire = WIRES["novita"]
    clock = ManualClock()
    first = await sim(clock, state_file=state_file)
    task_id = await submit(first, wire)
    clock.advance(1.0)
    url = await wire.video_url(first, task_id)
    assert url is not None
    await first.close()

    second = await sim(ManualClock(), state_file=state_file)
    response = await second.get(URL(url).path_qs)
    assert response.status == 200
    assert response.content_type == "video/mp4"
    await response.read()


async def test_a_link_from_an_instance_without_the_file_is_refused(
    sim: Sim, state_file: str
) -> None:
    wire = WIRES["novita"]
    clock = ManualClock()
    stranger = await sim(clock)
    task_id = await submit(stranger, wire)
    clock.advance(1.0)
    url = await wire.video_url(stranger, task_id)
    assert url is not None
    second = await sim(ManualClock(), state_file=state_file)
    response = await second.get(URL(url).path_qs)
    assert response.status == 403


async def test_the_gmi_listing_shows_restored_tasks_newest_first(sim: Sim, state_file: str) -> None:
    first = await sim(ManualClock(), state_file=state_file)
    gmi_ids = [await submit(first, WIRES["gmi"]) for _ in range(2)]
    await first.close()

    second = await sim(ManualClock(), state_file=state_file)
    listed = await get_json(second, GMI, model_id="Minimax-Hailuo-02")
    assert [entry["request_id"] for entry in listed["requests"]] == gmi_ids[::-1]
    assert listed["requests"][0]["payload"] == {"prompt": "a fox in snow"}


async def test_resubmitting_a_body_the_old_instance_accepted_is_a_duplicate(
    sim: Sim, state_file: str
) -> None:
    first = await sim(state_file=state_file)
    for wire in WIRES.values():
        await submit(first, wire)
    await first.close()

    second = await sim(state_file=state_file)
    await submit(second, WIRES["gmi"])
    await submit(second, WIRES["novita"], {"prompt": "something new"})
    counted = await stats(second)
    assert (counted["submitted"], counted["duplicate_submits"]) == (2, 1)
    assert counted["by_provider"]["gmi"]["duplicate_submits"] == 1


async def test_new_tasks_queue_behind_restored_ones_still_running(
    sim: Sim, state_file: str
) -> None:
    wire = WIRES["gmi"]
    first = await sim(ManualClock(), state_file=state_file, gen_seconds=2.0, max_concurrent=1)
    await submit(first, wire)
    await first.close()

    clock = ManualClock()
    second = await sim(clock, state_file=state_file, gen_seconds=2.0, max_concurrent=1)
    queued = await submit(second, wire, {"model": "Minimax-Hailuo-02", "payload": {"prompt": "b"}})
    clock.advance(1.0)
    assert (await get_json(second, f"{GMI}/{queued}"))["status"] == "queued"
    clock.advance(2.0)
    assert (await get_json(second, f"{GMI}/{queued}"))["status"] in ("dispatched", "processing")


async def test_a_task_created_long_before_the_restart_is_simply_finished(
    sim: Sim, state_file: str
) -> None:
    wire = WIRES["aimlapi"]
    first = await sim(ManualClock(), state_file=state_file, gen_seconds=3.0)
    task_id = await submit(first, wire)
    await first.close()
    path = Path(state_file)
    header, record = path.read_bytes().splitlines()
    task = orjson.loads(record)
    for field in ("created", "starts", "ends"):
        task[field] -= 30.0
    path.write_bytes(header + b"\n" + orjson.dumps(task) + b"\n")

    second = await sim(ManualClock(), state_file=state_file, gen_seconds=3.0)
    assert await wire.video_url(second, task_id) is not None


async def test_a_torn_last_line_is_ignored_and_cut_off(sim: Sim, state_file: str) -> None:
    """A kill mid-write leaves half a line; the next instance drops it and appends cleanly."""
    wire = WIRES["novita"]
    first = await sim(ManualClock(), state_file=state_file)
    kept = await submit(first, wire)
    await first.close()
    with Path(state_file).open("ab") as handle:
        handle.write(b'{"provider":"novita","id":"half-writ')

    second = await sim(ManualClock(), state_file=state_file)
    added = await submit(second, wire, {"prompt": "after the tear"})
    await second.close()

    clock = ManualClock()
    third = await sim(clock, state_file=state_file)
    clock.advance(1.0)
    for task_id in (kept, added):
        assert await wire.video_url(third, task_id) is not None
    records = [orjson.loads(line) for line in Path(state_file).read_bytes().splitlines()]
    assert [record.get("id") for record in records if "digest" in record] == [kept, added]


async def test_image_bytes_are_not_kept_but_the_frame_size_is(sim: Sim, state_file: str) -> None:
    wire = WIRES["gmi"]
    image = data_uri(600, 1000)
    payload = {"prompt": "portrait", "first_frame_image": image}
    first = await sim(ManualClock(), state_file=state_file)
    task_id = await submit(first, wire, {"model": "Minimax-Hailuo-02", "payload": payload})
    await first.close()
    assert b"base64" not in Path(state_file).read_bytes()

    clock = ManualClock()
    second = await sim(clock, state_file=state_file)
    clock.advance(1.0)
    url = await wire.video_url(second, task_id)
    assert url is not None
    data = (await download(second, url))[2]
    assert (probe(data).width, probe(data).height) == (768, 1280)
    echoed = (await get_json(second, f"{GMI}/{task_id}"))["payload"]
    assert echoed == {"prompt": "portrait"}


async def test_a_file_that_is_not_a_task_file_is_refused_saying_where(
    sim: Sim, tmp_path: Path
) -> None:
    foreign = tmp_path / "notes.txt"
    foreign.write_text("shopping list\n")
    with pytest.raises(TaskFileError, match=r"notes\.txt:1: not a simulator task file"):
        await sim(state_file=str(foreign))


def test_the_sim_command_refuses_a_foreign_state_file(tmp_path: Path) -> None:
    foreign = tmp_path / "notes.txt"
    foreign.write_text("shopping list\n")
    result = run_line("sim", "--port", "0", "--state-file", str(foreign))
    assert result.exit_code == 2  # bad input, as every unreadable input is
    assert "notes.txt:1: not a simulator task file" in result.output
