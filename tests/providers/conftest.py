"""Fixtures for the adapter tests: recorded bodies, sample requests and a made-up key.

No test here opens a socket: adapters are pure, so an answer is just a status, bytes and
headers. An `error_<status>_*.json` fixture is served with that HTTP status, others with 200.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from hailuo_batch.core.http import HttpResponse, SubmitImages
from hailuo_batch.core.jobs import ImageRef, VideoRequest

FIXTURES = Path(__file__).parent / "fixtures"
API_KEY = "sk-test-4f1c9a7e2b6d0c3e-not-a-real-key"
FIRST_FRAME = "https://example.com/frames/car.jpg"
LAST_FRAME = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ"


def load_reply(
    provider: str,
    name: str,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """The recorded body `fixtures/<provider>/<name>.json` as an answer."""
    if status is None:
        match = re.match(r"error_(\d{3})_", name)
        status = int(match[1]) if match else 200
    body = (FIXTURES / provider / f"{name}.json").read_bytes()
    return HttpResponse(status, body, dict(headers or {}))


def recorded_names(provider: str) -> set[str]:
    return {path.stem for path in (FIXTURES / provider).glob("*.json")}


@pytest.fixture
def reply() -> Callable[..., HttpResponse]:
    return load_reply


@pytest.fixture
def recorded() -> Callable[[str], set[str]]:
    """Names of a provider's fixtures, so each module can prove it exercises all of them."""
    return recorded_names


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def text_request() -> VideoRequest:
    """Text-to-video with every option away from its default, so each mapping shows."""
    return VideoRequest(
        model="hailuo-02",
        prompt="A cat walks through a neon alley [Push in]",
        duration=10,
        resolution="768P",
        prompt_optimizer=False,
        fast_pretreatment=True,
    )


@pytest.fixture
def frames_request() -> VideoRequest:
    return VideoRequest(
        model="hailuo-02",
        prompt="The car drives off [Pan right]",
        duration=6,
        resolution="1080P",
        image=ImageRef(FIRST_FRAME, "url"),
        end_image=ImageRef("/abs/car-end.png", "path", sha256="ab" * 32, format="PNG"),
    )


@pytest.fixture
def frames() -> SubmitImages:
    return SubmitImages(first=FIRST_FRAME, last=LAST_FRAME)


@pytest.fixture
def video01_request() -> VideoRequest:
    return VideoRequest(
        model="video-01",
        prompt="a red fox in snow",
        duration=6,
        resolution="720P",
        image=ImageRef(FIRST_FRAME, "url"),
    )
