"""Every simulated provider alike: a submit body, and the way from a task id to its video URL.

For tests that hold for all providers; each speaks raw HTTP built from PROVIDERS.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from simwire import AUTH, Client

GMI = "/gmi/api/v1/ie/requestqueue/apikey/requests"
REPLICATE = "/replicate/v1/models/minimax/hailuo-02/predictions"


async def get_json(client: Client, path: str, **params: str) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=AUTH)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def _novita_like(client: Client, mount: str, task_id: str) -> str | None:
    body = await get_json(client, f"/{mount}/v3/async/task-result", task_id=task_id)
    if body["task"]["status"] != "TASK_STATUS_SUCCEED":
        return None
    url: str = body["videos"][0]["video_url"]
    return url


async def _gmi(client: Client, task_id: str) -> str | None:
    body = await get_json(client, f"{GMI}/{task_id}")
    if body["status"] != "success":
        return None
    url: str = body["outcome"]["media_urls"][0]["url"]
    return url


async def _aimlapi(client: Client, task_id: str) -> str | None:
    body = await get_json(client, "/aimlapi/v2/video/generations", generation_id=task_id)
    if body["status"] != "completed":
        return None
    url: str = body["video"]["url"]
    return url


async def _minimax(client: Client, task_id: str) -> str | None:
    body = await get_json(client, "/minimax/v1/query/video_generation", task_id=task_id)
    if body["status"] != "Success":
        return None
    file = await get_json(client, "/minimax/v1/files/retrieve", file_id=body["file_id"])
    url: str = file["file"]["download_url"]
    return url


async def _replicate(client: Client, task_id: str) -> str | None:
    body = await get_json(client, f"/replicate/v1/predictions/{task_id}")
    if body["status"] != "succeeded":
        return None
    url: str = body["output"]
    return url


@dataclass(frozen=True)
class Wire:
    """How to submit to one provider, and how to poll a task to its video URL (None: not yet).

    `with_image(prompt, uri)` is a submit body with a first-frame image.
    """

    path: str
    body: dict[str, Any]
    id_field: str
    video_url: Callable[[Client, str], Awaitable[str | None]]
    with_image: Callable[[str, str], dict[str, Any]]


WIRES = {
    "novita": Wire(
        "/novita/v3/async/minimax-hailuo-02",
        {"prompt": "a fox in snow"},
        "task_id",
        lambda c, t: _novita_like(c, "novita", t),
        lambda prompt, uri: {"prompt": prompt, "image": uri},
    ),
    "highway": Wire(
        "/highway/v3/async/minimax-hailuo-02",
        {"prompt": "a fox in snow"},
        "task_id",
        lambda c, t: _novita_like(c, "highway", t),
        lambda prompt, uri: {"prompt": prompt, "image": uri},
    ),
    "gmi": Wire(
        GMI,
        {"model": "Minimax-Hailuo-02", "payload": {"prompt": "a fox in snow"}},
        "request_id",
        _gmi,
        lambda prompt, uri: {
            "model": "Minimax-Hailuo-02",
            "payload": {"prompt": prompt, "first_frame_image": uri},
        },
    ),
    "aimlapi": Wire(
        "/aimlapi/v2/video/generations",
        {"model": "minimax/hailuo-02", "prompt": "a fox in snow"},
        "generation_id",
        _aimlapi,
        lambda prompt, uri: {"model": "minimax/hailuo-02", "prompt": prompt, "image_url": uri},
    ),
    "minimax": Wire(
        "/minimax/v1/video_generation",
        {"model": "MiniMax-Hailuo-02", "prompt": "a fox in snow"},
        "task_id",
        _minimax,
        lambda prompt, uri: {
            "model": "MiniMax-Hailuo-02",
            "prompt": prompt,
            "first_frame_image": uri,
        },
    ),
    # Replicate's Hailuo-02 defaults to 1080p: the bodies ask for 768p like the others'.
    "replicate": Wire(
        REPLICATE,
        {"input": {"prompt": "a fox in snow", "resolution": "768p"}},
        "id",
        _replicate,
        lambda prompt, uri: {
            "input": {"prompt": prompt, "first_frame_image": uri, "resolution": "768p"}
        },
    ),
}


async def submit(client: Client, wire: Wire, body: dict[str, Any] | None = None) -> str:
    response = await client.post(wire.path, json=body or wire.body, headers=AUTH)
    assert response.status in (200, 201), await response.text()  # Replicate creates: 201
    task_id: str = (await response.json())[wire.id_field]
    assert task_id
    return task_id
