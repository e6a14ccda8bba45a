"""The delivered video: geometry, one encode per look, a tag per task; the config's checks."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import av
import pytest
from PIL import Image
from simwire import AUTH, Sim, comment, download, first_frame, mean, near, probe, wait_for

from hailuo_batch.simulator import SimConfig
from hailuo_batch.simulator.links import LinkSigner
from hailuo_batch.simulator.picture import BAND, band_height, still
from hailuo_batch.simulator.video import (
    AUDIO_RATE,
    TAG_WIDTH,
    Look,
    VideoCache,
    VideoSpec,
    aspect_of,
    frame_size,
)


@pytest.mark.parametrize(
    ("resolution", "aspect", "size"),
    [
        ("768P", None, (1366, 768)),
        ("1080P", None, (1920, 1080)),
        ("512P", None, (910, 512)),
        ("720P", None, (1280, 720)),
        ("768P", 9 / 16, (768, 1366)),
        ("1080P", 1.0, (1080, 1080)),
        ("512P", 4 / 3, (682, 512)),
        ("2K", None, (2560, 1440)),  # H3's 2K: UNVERIFIED, a 1440 px short side
        ("2K", 9 / 16, (1440, 2560)),
        ("2K", 21 / 9, (3360, 1440)),
    ],
)
def test_frame_size_follows_resolution_and_first_frame_aspect(
    resolution: str, aspect: float | None, size: tuple[int, int]
) -> None:
    assert frame_size(resolution, aspect) == size


@pytest.mark.parametrize(
    ("ratio", "aspect"),
    [("16:9", 16 / 9), ("9:16", 9 / 16), ("21:9", 21 / 9), ("1:1", 1.0), ("adaptive", None)],
)
def test_aspect_of_a_ratio(ratio: str, aspect: float | None) -> None:
    assert aspect_of(ratio) == aspect
    assert aspect_of("0:9") is None and aspect_of("16:") is None


def _card(look: Look) -> Image.Image:
    return still(look, None)


def _frames(data: bytes) -> list[Image.Image]:
    with av.open(io.BytesIO(data)) as container:
        return [frame.to_image() for frame in container.decode(video=0)]


def test_one_encode_per_look_and_each_task_gets_its_own_tag() -> None:
    """Two tasks of one look: one encode; files differ only in the id, and both probe."""
    cache = VideoCache()
    look = Look(VideoSpec(910, 512, 6))
    first = cache.mp4(look, "7f3c2a91-5d4e-4b8a-9c61-0e2f3a4b5c6d", _card)
    second = cache.mp4(look, "123456789012345:minimax/hailuo-02", _card)
    assert cache.encodes == 1
    assert first != second and len(first) == len(second)
    assert sum(a != b for a, b in zip(first, second, strict=True)) <= TAG_WIDTH
    assert comment(first) == "hailuo-batch simulator task 7f3c2a91-5d4e-4b8a-9c61-0e2f3a4b5c6d"
    assert comment(second) == "hailuo-batch simulator task 123456789012345:minimax/hailuo-02"
    for data in (first, second):
        facts = probe(data)
        assert (facts.codec, facts.width, facts.height, facts.pix_fmt) == (
            "h264",
            910,
            512,
            "yuv420p",
        )
        assert facts.duration == pytest.approx(6.0, abs=0.05)
        assert facts.fps == pytest.approx(25.0)


@pytest.mark.parametrize("duration", [6, 10, 1.48, 3.2])
def test_every_frame_decodes_and_is_watermarked(duration: float) -> None:
    """The repeated GOP, whole or cut short, gives exactly the frames asked for, all alike."""
    spec = VideoSpec(640, 360, duration)
    frames = _frames(VideoCache().mp4(Look(spec), "t", _card))
    assert len(frames) == spec.frames
    band = (0, 360 - band_height(360) + 4, 640, 360 - 4)
    for frame in (frames[0], frames[len(frames) // 2], frames[-1]):
        assert near(mean(frame, (0, band[1], 40, band[3])), BAND, 20)  # the band's plain left


def test_callers_wanting_one_look_at_once_wait_for_a_single_encode() -> None:
    cache = VideoCache()
    look = Look(VideoSpec(320, 180, 1))
    with ThreadPoolExecutor(8) as pool:
        files = list(pool.map(lambda n: cache.mp4(look, f"task-{n}", _card), range(16)))
    assert cache.encodes == 1
    assert [comment(data) for data in files] == [
        f"hailuo-batch simulator task task-{n}" for n in range(16)
    ]


def test_a_long_task_id_does_not_fit_the_tag() -> None:
    with pytest.raises(ValueError, match="longer than"):
        VideoCache().mp4(Look(VideoSpec(64, 36, 0.2)), "x" * (TAG_WIDTH + 1), _card)


def test_the_cache_keeps_to_its_budget_dropping_the_least_recently_used() -> None:
    looks = [Look(VideoSpec(320, 180, 1), caption=f"shot {n}") for n in range(3)]
    sizes = [len(VideoCache().mp4(look, "t", _card)) for look in looks]
    cache = VideoCache(budget=sizes[0] + sizes[1] + max(sizes) // 2)
    cache.mp4(looks[0], "t", _card)
    cache.mp4(looks[1], "t", _card)
    cache.mp4(looks[0], "t", _card)  # now the most recently used
    cache.mp4(looks[2], "t", _card)  # over budget: looks[1] goes
    assert cache.encodes == 3
    cache.mp4(looks[0], "t", _card)
    assert cache.encodes == 3
    cache.mp4(looks[1], "t", _card)
    assert cache.encodes == 4


def test_a_look_whose_image_is_gone_is_delivered_as_the_card() -> None:
    cache = VideoCache()
    spec = VideoSpec(320, 180, 1)
    lost = Look(spec, image="ab" * 32)

    def draw(look: Look) -> Image.Image | None:
        return None if look.image else still(look, None)

    data = cache.mp4(lost, "t", draw)
    assert data == cache.mp4(Look(spec), "t", draw)
    assert cache.encodes == 1


@pytest.mark.parametrize(
    "settings",
    [
        {"faults": ("rate-limit", "meteor")},
        {"outages": {"novita": "flood"}},
        {"outages": {"runway": "down"}},  # a provider nobody simulates
        {"max_concurrent": 0},
        {"fault_rate": 1.5},
        {"url_ttl": 0},
    ],
)
def test_config_refuses_nonsense(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="invalid simulator config"):
        SimConfig(**settings)  # type: ignore[arg-type]


async def test_deliver_overrides_make_a_video_that_differs_from_the_request(sim: Sim) -> None:
    """The poll still promises 1366x768 for 6 s; the bytes are 640x360 for 2 s."""
    client = await sim(deliver_size=(640, 360), deliver_duration=2)
    submit = await client.post(
        "/minimax/v1/video_generation",
        json={"model": "MiniMax-Hailuo-02", "prompt": "p"},
        headers=AUTH,
    )
    task_id = (await submit.json())["task_id"]

    async def query() -> dict[str, object]:
        response = await client.get(
            "/minimax/v1/query/video_generation", params={"task_id": task_id}, headers=AUTH
        )
        body: dict[str, object] = await response.json()
        return body

    final = (await wait_for(query, lambda b: b["status"] == "Success"))[-1]
    assert (final["video_width"], final["video_height"]) == (1366, 768)
    retrieved = await client.get(
        "/minimax/v1/files/retrieve", params={"file_id": str(final["file_id"])}, headers=AUTH
    )
    url = (await retrieved.json())["file"]["download_url"]
    data = (await download(client, url))[2]
    facts = probe(data)
    assert (facts.width, facts.height) == (640, 360)
    assert facts.duration == pytest.approx(2.0, abs=0.05)
    assert comment(data) == f"hailuo-batch simulator task {task_id}"
    assert near(mean(first_frame(data), (0, 330, 40, 356)), BAND, 20)


def _sound(data: bytes) -> tuple[str, int, int, float, float]:
    """The audio stream's codec, channels, rate, length (s) and loudest sample (0..1)."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        assert stream.duration is not None
        seconds = float(stream.duration * stream.time_base)
        peak = 0.0
        for frame in container.decode(audio=0):
            assert frame.format.name == "fltp"
            samples = memoryview(bytes(frame.planes[0])).cast("f")[: frame.samples]
            peak = max(peak, *(abs(value) for value in samples))
        return stream.codec_context.name, stream.codec_context.channels, stream.rate, seconds, peak


@pytest.mark.parametrize("duration", [4, 6.5])
def test_a_spec_with_sound_carries_a_quiet_stereo_tone_as_long_as_the_video(
    duration: float,
) -> None:
    """H3's native audio, simulated: AAC, stereo, 48 kHz, quiet but not silent."""
    cache = VideoCache()
    data = cache.mp4(Look(VideoSpec(320, 180, duration, audio=True)), "t", _card)
    codec, channels, rate, seconds, peak = _sound(data)
    assert (codec, channels, rate) == ("aac", 2, AUDIO_RATE)
    assert seconds == pytest.approx(duration, abs=0.05)
    assert 0.01 < peak < 0.1
    facts = probe(data)
    assert (facts.codec, facts.width, facts.height) == ("h264", 320, 180)
    assert len(_frames(data)) == VideoSpec(320, 180, duration).frames
    assert comment(data) == "hailuo-batch simulator task t"


def test_sound_is_part_of_the_look() -> None:
    """A silent and a sounding spec of one size and length are two encodes."""
    cache = VideoCache()
    silent = cache.mp4(Look(VideoSpec(320, 180, 1)), "t", _card)
    sounding = cache.mp4(Look(VideoSpec(320, 180, 1, audio=True)), "t", _card)
    assert cache.encodes == 2
    with av.open(io.BytesIO(silent)) as container:
        assert not container.streams.audio
    assert _sound(sounding)[0] == "aac"


def test_a_link_keeps_the_sound_of_its_spec() -> None:
    signer = LinkSigner(b"k" * 32, lambda: 5.0, 1_700_000_000.0)
    for spec in (VideoSpec(2560, 1440, 15, audio=True), VideoSpec(1366, 768, 6)):
        claims = signer.open(signer.mint(spec, 60, "task").token)
        assert claims is not None and claims.spec == spec
