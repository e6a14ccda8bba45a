"""Novita's H3 pass-through: MiniMax's V2 wire under /v3/minimax, beside Novita's own v3.

Novita states its H3 API "aligns with the official MiniMax API" but shows no answers
(docs/providers/novita.md section 7): the V2 fixtures stand for them, and errors may come
in either envelope (UNVERIFIED), so both are read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from hailuo_batch.core.http import HttpResponse, SubmitImages
from hailuo_batch.core.jobs import ErrorKind, VideoRequest
from hailuo_batch.errors import ProviderError
from hailuo_batch.providers.novita import NovitaAdapter

Reply = Callable[..., HttpResponse]
ROOT = "https://api.novita.ai/v3/minimax/v2"
SUBMIT = f"{ROOT}/video_generation"
FRAME = "https://cdn.example/first.png"


@pytest.fixture
def novita(api_key: str) -> NovitaAdapter:
    return NovitaAdapter("novita", api_key)


def test_h3_is_submitted_in_minimaxs_v2_shape(novita: NovitaAdapter, api_key: str) -> None:
    """`model` is fixed to MiniMax-H3; the frames are content items with roles."""
    request = VideoRequest("h3", "Pull focus to the people behind", 8, "768P")
    req = novita.submit_request(request, SubmitImages(first=FRAME))
    assert (req.method, req.url) == ("POST", SUBMIT)
    assert req.headers["Authorization"] == f"Bearer {api_key}"
    assert req.json == {
        "model": "MiniMax-H3",
        "content": [
            {"type": "text", "text": "Pull focus to the people behind"},
            {"type": "image_url", "image_url": {"url": FRAME}, "role": "first_frame"},
        ],
        "resolution": "768P",
        "duration": 8,
        "ratio": "adaptive",
    }


def test_an_h3_task_is_polled_at_the_v2_query(novita: NovitaAdapter, reply: Reply) -> None:
    """Not at /v3/async/task-result, which the playground page shows (conflicting docs)."""
    task_id = novita.parse_submit(replace(reply("minimax/v2", "submit_ok"), url=SUBMIT))
    assert task_id == "v2:424010985738629"
    poll = novita.poll_request(task_id)
    assert (poll.method, poll.url) == ("GET", f"{ROOT}/query/video_generation/424010985738629")
    status = novita.parse_poll(replace(reply("minimax/v2", "poll_succeeded"), url=poll.url))
    assert status.state == "succeeded"
    assert status.video_url is not None and status.video_url.endswith("/output.mp4")
    assert novita.poll_request("f97d3f93-bb29-47d9-9327-77e70982bd43").url.startswith(
        "https://api.novita.ai/v3/async/task-result?"
    )


@pytest.mark.parametrize(
    ("provider", "name", "kind"),
    [
        ("minimax/v2", "error_400_bad_request", "invalid_input"),
        ("minimax/v2", "error_401_authorized", "auth"),
        ("minimax/v2", "error_429_rate_limit", "rate_limited"),
        ("novita", "error_403_not_enough_balance", "quota"),  # the reason decides, not 403
        ("novita", "error_403_invalid_api_key", "auth"),
        ("novita", "error_400_invalid_body", "invalid_input"),
        ("novita", "error_503_service_not_available", "transient"),
    ],
)
def test_errors_in_either_envelope_are_classified(
    novita: NovitaAdapter, reply: Reply, provider: str, name: str, kind: ErrorKind
) -> None:
    answer = replace(reply(provider, name), url=SUBMIT)
    with pytest.raises(ProviderError) as caught:
        novita.parse_submit(answer)
    assert (caught.value.kind, caught.value.provider) == (kind, "novita")


def test_highway_sells_no_h3(api_key: str) -> None:
    with pytest.raises(ProviderError) as caught:
        NovitaAdapter("highway", api_key).submit_request(
            VideoRequest("h3", "p", 6, "768P"), SubmitImages()
        )
    assert caught.value.kind == "invalid_input"
    assert "does not sell h3" in caught.value.message


def test_novitas_own_answers_are_still_read_as_before(novita: NovitaAdapter, reply: Reply) -> None:
    url = "https://api.novita.ai/v3/async/minimax-hailuo-02"
    answer = replace(reply("novita", "submit_ok"), url=url)
    assert not novita.parse_submit(answer).startswith("v2:")
