"""What a simulated video shows: the submit's first frame (or a test card), the prompt when
asked, SIMULATED on every frame, and whose task it is in its metadata."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import orjson
import pytest
from PIL import Image, ImageChops
from simwire import (
    Client,
    ManualClock,
    Sim,
    comment,
    download,
    first_frame,
    halves,
    image_uri,
    mean,
    near,
    probe,
    wait_for,
)
from wires import WIRES, Wire, submit

from hailuo_batch.simulator.firstframes import FOLDER_NAME, FirstFrames
from hailuo_batch.simulator.picture import BAND, CARD, CARD_BOX, band_height
from hailuo_batch.simulator.video import VideoCache

RED, BLUE = (210, 40, 40), (40, 70, 210)


async def video(client: Client, wire: Wire, task_id: str) -> bytes:
    """Poll the task until it has a video URL, then download it."""
    url = (await wait_for(lambda: wire.video_url(client, task_id), lambda u: u is not None))[-1]
    assert url is not None
    status, content_type, data = await download(client, url)
    assert (status, content_type) == (200, "video/mp4")
    return data


def assert_watermarked(frame: Image.Image) -> None:
    """A crimson band across the bottom tenth, with white letters in its middle."""
    width, height = frame.size
    top = height - band_height(height)
    assert near(mean(frame, (0, top + 4, width // 8, height - 4)), BAND, 20)
    assert near(mean(frame, (width * 7 // 8, top + 4, width, height - 4)), BAND, 20)
    letters = frame.crop((width // 3, top, width * 2 // 3, height)).convert("L")
    histogram = letters.histogram()
    assert sum(histogram[200:]) > 0.05 * sum(histogram)  # white strokes of SIMULATED
    assert not near(mean(frame, (0, 0, width, top - 2)), BAND, 40)  # only the band is crimson


@pytest.mark.parametrize("provider", ["novita", "gmi", "aimlapi", "minimax", "replicate"])
async def test_the_first_frame_is_the_submitted_image_watermarked(sim: Sim, provider: str) -> None:
    """Left half red, right half blue in the image: so in the video's first frame."""
    wire = WIRES[provider]
    client = await sim()
    uri = image_uri(halves(1280, 720, RED, BLUE))
    task_id = await submit(client, wire, wire.with_image("two colours", uri))
    data = await video(client, wire, task_id)
    frame = first_frame(data)
    assert frame.size == (1366, 768)
    above = 768 - band_height(768) - 8
    assert near(mean(frame, (40, 40, 600, above)), RED)
    assert near(mean(frame, (766, 40, 1326, above)), BLUE)
    assert_watermarked(frame)
    assert comment(data) == f"hailuo-batch simulator task {task_id}"
    assert probe(data).duration == pytest.approx(6.0, abs=0.05)


async def test_an_image_of_another_aspect_fills_the_frame_cropped(sim: Sim) -> None:
    """A 3:2 image in a 768P frame of its aspect: the centre is kept, nothing is stretched."""
    wire = WIRES["novita"]
    client = await sim()
    image = Image.new("RGB", (1500, 1000), RED)
    image.paste(BLUE, (500, 0, 1000, 1000))  # a blue middle third
    data = await video(
        client, wire, await submit(client, wire, wire.with_image("p", image_uri(image)))
    )
    frame = first_frame(data)
    assert frame.size == (1152, 768)
    assert near(mean(frame, (420, 40, 730, 600)), BLUE)
    assert near(mean(frame, (20, 40, 360, 600)), RED)


async def test_a_text_only_or_url_image_task_shows_the_test_card(sim: Sim) -> None:
    """URLs are never fetched: no image to draw, as for text-to-video."""
    wire = WIRES["novita"]
    client = await sim()
    for body in ({"prompt": "p"}, {"prompt": "p", "image": "https://example.com/a.png"}):
        frame = first_frame(await video(client, wire, await submit(client, wire, body)))
        assert near(mean(frame, (20, 20, 200, 150)), CARD)
        assert near(mean(frame, (500, 250, 860, 500)), CARD_BOX)
        assert_watermarked(frame)


async def test_tasks_of_one_look_share_an_encode_yet_each_file_is_its_own(sim: Sim) -> None:
    wire = WIRES["gmi"]
    videos = VideoCache()
    client = await sim(videos=videos)
    ids = [
        await submit(
            client, wire, wire.with_image(f"shot {n}", image_uri(halves(720, 720, RED, BLUE)))
        )
        for n in range(3)
    ]
    files = [await video(client, wire, task_id) for task_id in ids]
    assert videos.encodes == 1
    assert [comment(data) for data in files] == [f"hailuo-batch simulator task {i}" for i in ids]
    assert len(set(files)) == 3
    frames = [first_frame(data) for data in files]
    assert ImageChops.difference(frames[0], frames[2]).getbbox() is None  # prompts not drawn


async def test_draw_prompts_writes_each_prompt_on_its_video(sim: Sim) -> None:
    wire = WIRES["aimlapi"]
    videos = VideoCache()
    client = await sim(videos=videos, draw_prompts=True)
    bodies = [
        {"model": "minimax/hailuo-02", "prompt": p}
        for p in ("a red fox in snow", "koi at dawn, slow pan across a quiet pond")
    ]
    frames = [
        first_frame(await video(client, wire, await submit(client, wire, body))) for body in bodies
    ]
    assert videos.encodes == 2
    panel = (16, 16, 900, 110)
    assert ImageChops.difference(frames[0].crop(panel), frames[1].crop(panel)).getbbox() is not None
    boxes = [mean(frame, (500, 300, 860, 500)) for frame in frames]
    for frame, box in zip(frames, boxes, strict=True):
        histogram = frame.crop(panel).convert("L").histogram()
        assert sum(histogram[200:]) > 0.01 * sum(histogram)  # white letters on the dark panel
        assert not near(box, mean(frame, (10, 200, 60, 250)))  # the card's box shows below it
        assert_watermarked(frame)
    assert not near(boxes[0], boxes[1])  # and it takes each prompt's own colour


async def test_a_task_keeps_its_images_digest_not_its_body(sim: Sim, tmp_path: Path) -> None:
    """The task line names the image by digest; the image is a PNG beside the task file."""
    state_file = tmp_path / "sim" / "tasks.jsonl"
    wire = WIRES["minimax"]
    image = halves(1280, 720, RED, BLUE)
    uri = image_uri(image)
    client = await sim(state_file=str(state_file))
    await submit(client, wire, wire.with_image("p", uri))
    await submit(client, wire, wire.with_image("q", uri))
    digest = hashlib.sha256(base64.b64decode(uri.partition(",")[2])).hexdigest()
    records = [orjson.loads(line) for line in state_file.read_bytes().splitlines()[1:]]
    assert [record["image"] for record in records] == [digest, digest]
    assert b"base64" not in state_file.read_bytes()
    (stored,) = (tmp_path / "sim" / FOLDER_NAME).iterdir()
    assert stored.name == f"{digest}.png"
    with Image.open(stored) as png:
        assert png.size == (960, 540)  # shrunk: short side 540
        assert near(mean(png.convert("RGB"), (0, 0, 400, 540)), RED, 2)


async def test_a_restarted_simulator_draws_the_same_first_frame(sim: Sim, tmp_path: Path) -> None:
    state_file = str(tmp_path / "tasks.jsonl")
    wire = WIRES["novita"]
    first = await sim(ManualClock(), state_file=state_file, gen_seconds=1.0)
    task_id = await submit(
        first, wire, wire.with_image("p", image_uri(halves(1280, 720, RED, BLUE)))
    )
    await first.close()

    clock = ManualClock()
    second = await sim(clock, state_file=state_file, gen_seconds=1.0, videos=VideoCache())
    clock.advance(5)
    frame = first_frame(await video(second, wire, task_id))
    assert near(mean(frame, (40, 40, 600, 600)), RED)
    assert near(mean(frame, (766, 40, 1326, 600)), BLUE)


async def test_a_task_whose_image_is_gone_shows_the_card(sim: Sim, tmp_path: Path) -> None:
    state_file = str(tmp_path / "tasks.jsonl")
    wire = WIRES["novita"]
    first = await sim(ManualClock(), state_file=state_file, gen_seconds=1.0)
    task_id = await submit(
        first, wire, wire.with_image("p", image_uri(halves(1280, 720, RED, BLUE)))
    )
    await first.close()
    for png in (tmp_path / FOLDER_NAME).iterdir():
        png.unlink()

    clock = ManualClock()
    second = await sim(clock, state_file=state_file, gen_seconds=1.0, videos=VideoCache())
    clock.advance(5)
    data = await video(second, wire, task_id)
    frame = first_frame(data)
    assert frame.size == (1366, 768)
    assert near(mean(frame, (500, 250, 860, 500)), CARD_BOX)
    assert_watermarked(frame)
    assert comment(data) == f"hailuo-batch simulator task {task_id}"


async def test_a_task_file_written_before_images_and_asked_lines_still_loads(
    sim: Sim, tmp_path: Path
) -> None:
    """No `image` key, no `asked` lines: the task answers and its video is the card."""
    state_file = tmp_path / "tasks.jsonl"
    header = {"format": "hailuo-batch-simulator-tasks", "version": 1, "secret": "00" * 32}
    task_id = "0d4c2b6e-1f3a-4c5d-9e8f-7a6b5c4d3e2f"
    old = {
        "provider": "novita",
        "id": task_id,
        "model": "MINIMAX_HAILUO_02_6S_768P",
        "prompt": "from an older simulator",
        "echo": {},
        "width": 1366,
        "height": 768,
        "duration": 6,
        "created": 1.0,
        "starts": 1.0,
        "ends": 2.0,
        "fails": False,
        "file_id": "",
        "digest": "ab" * 32,
    }
    state_file.write_bytes(orjson.dumps(header) + b"\n" + orjson.dumps(old) + b"\n")
    client = await sim(state_file=str(state_file))
    data = await video(client, WIRES["novita"], task_id)
    assert near(mean(first_frame(data), (500, 250, 860, 500)), CARD_BOX)
    assert comment(data) == f"hailuo-batch simulator task {task_id}"


def test_first_frames_keep_to_their_memory_budget(tmp_path: Path) -> None:
    """Beyond the budget the least recently used image leaves memory; the folder has it."""
    images = [image_uri(halves(1000, 600, RED, (n, n, n))) for n in (10, 20, 30)]
    raw = [base64.b64decode(uri.partition(",")[2]) for uri in images]
    one = 900 * 540 * 3  # a 1000x600 image shrunk to 540 rows
    for folder in (None, tmp_path):
        frames = FirstFrames(folder, budget=2 * one)
        digests = [frames.add(data) for data in raw]
        assert all(digests) and len(set(digests)) == 3
        assert "images=2" in repr(frames)
        kept = frames.get(str(digests[0]))
        assert (kept is None) == (folder is None)
        if kept is not None:
            assert near(mean(kept, (500, 0, 900, 540)), (10, 10, 10), 2)


def test_an_unreadable_image_is_no_first_frame() -> None:
    assert FirstFrames().add(b"\x89PNG\r\n\x1a\n not really") is None
