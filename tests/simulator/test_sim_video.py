"""The delivered video's geometry and encoding, and the config's own checks."""

from __future__ import annotations

import pytest
from simwire import AUTH, Sim, download, probe, wait_for

from hailuo_batch.simulator import SimConfig
from hailuo_batch.simulator.video import VideoSpec, frame_size, mp4_bytes


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
    ],
)
def test_frame_size_follows_resolution_and_first_frame_aspect(
    resolution: str, aspect: float | None, size: tuple[int, int]
) -> None:
    assert frame_size(resolution, aspect) == size


def test_encoded_videos_are_cached_by_size_and_length() -> None:
    spec = VideoSpec(910, 512, 6)
    assert mp4_bytes(spec) is mp4_bytes(VideoSpec(910, 512, 6.0))
    assert probe(mp4_bytes(spec)).duration == pytest.approx(6.0, abs=0.05)


@pytest.mark.parametrize(
    "settings",
    [
        {"faults": ("rate-limit", "meteor")},
        {"outages": {"novita": "flood"}},
        {"outages": {"fal": "down"}},
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
    facts = probe((await download(client, url))[2])
    assert (facts.width, facts.height) == (640, 360)
    assert facts.duration == pytest.approx(2.0, abs=0.05)
