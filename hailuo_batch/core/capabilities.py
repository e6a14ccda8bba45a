"""What each model allows and what each provider sells, as data, plus the rules that read it.

One table serves `validate` (is this job possible anywhere in its failover list?) and the
engine (which provider may take this job next?). Times are in seconds. No I/O.
Sources: docs/providers/ (README's matrix and each provider's page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from hailuo_batch.core.jobs import Model, VideoRequest

MAX_PROMPT_CHARS = 2000
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MIN_IMAGE_SHORT_SIDE = 301  # "short side > 300 px"
MIN_ASPECT, MAX_ASPECT = 2 / 5, 5 / 2


@dataclass(frozen=True, slots=True)
class ModelRules:
    """The model's own limits, the same at every provider."""

    durations: frozenset[int]
    resolutions: frozenset[str]
    default_duration: int
    default_resolution: str
    max_duration_by_resolution: dict[str, int]
    needs_first_frame: frozenset[str]  # resolutions only available image-to-video
    end_frame_resolutions: frozenset[str]  # empty: the model has no end frame


MODEL_RULES: dict[Model, ModelRules] = {
    "hailuo-02": ModelRules(
        durations=frozenset({6, 10}),
        resolutions=frozenset({"512P", "768P", "1080P"}),
        default_duration=6,
        default_resolution="768P",
        max_duration_by_resolution={"1080P": 6},
        needs_first_frame=frozenset({"512P"}),
        end_frame_resolutions=frozenset({"768P", "1080P"}),
    ),
    "video-01": ModelRules(
        durations=frozenset({6}),
        resolutions=frozenset({"720P"}),
        default_duration=6,
        default_resolution="720P",
        max_duration_by_resolution={},
        needs_first_frame=frozenset(),
        end_frame_resolutions=frozenset(),
    ),
}


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `count` events per `per` seconds."""

    count: int
    per: float

    def __str__(self) -> str:
        unit = {1.0: "s", 60.0: "min", 3600.0: "h"}.get(self.per, f"{self.per:g}s")
        return f"{self.count}/{unit}"


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_SECONDS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0}


def parse_rate(text: str) -> Rate | None:
    """`'20/min'` -> Rate(20, 60.0); None when the text is not a positive rate."""
    match = _RATE.match(text)
    if not match or int(match[1]) == 0:
        return None
    return Rate(int(match[1]), _SECONDS.get(match[2], 3600.0))


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one provider sells and how it wants to be talked to."""

    provider: str
    title: str
    base_url: str
    key_env_var: str
    models: frozenset[Model]
    resolutions: frozenset[str]  # of those the models allow
    end_frame: bool
    local_images: bool  # False: first/last frames must be public URLs
    image_formats: frozenset[str]
    default_concurrency: int
    default_submit_rate: Rate
    url_ttl: float | None  # how long a result URL lives, when documented
    list_grace: float | None
    """Seconds after a submit by which the provider's task list must show the task, so a
    miss there proves a lost submit created nothing; None: no documented list can find
    such a task, so a lost submit is counted as a possible duplicate."""


_JPEG_PNG = frozenset({"JPEG", "PNG"})
_NOVITA = Capabilities(
    provider="novita",
    title="Novita AI",
    base_url="https://api.novita.ai",
    key_env_var="NOVITA_API_KEY",
    models=frozenset({"hailuo-02", "video-01"}),
    resolutions=frozenset({"720P", "768P", "1080P"}),
    end_frame=True,
    local_images=True,
    image_formats=_JPEG_PNG,
    default_concurrency=5,
    default_submit_rate=Rate(20, 60.0),
    url_ttl=3600.0,  # presigned COS URL, 1 h
    list_grace=None,
)

CAPABILITIES_BY_PROVIDER: dict[str, Capabilities] = {
    "novita": _NOVITA,
    # HighwayAPI is a Novita white-label: same protocol at another host, Hailuo-02 only.
    "highway": replace(
        _NOVITA,
        provider="highway",
        title="HighwayAPI",
        base_url="https://api.highwayapi.ai",
        key_env_var="HIGHWAY_API_KEY",
        models=frozenset({"hailuo-02"}),
        resolutions=frozenset({"768P", "1080P"}),
    ),
    "gmi": Capabilities(
        provider="gmi",
        title="GMI Cloud",
        base_url="https://console.gmicloud.ai",
        key_env_var="GMI_API_KEY",
        models=frozenset({"hailuo-02"}),
        resolutions=frozenset({"512P", "768P", "1080P"}),
        end_frame=False,
        local_images=False,
        image_formats=_JPEG_PNG,
        default_concurrency=4,
        default_submit_rate=Rate(20, 60.0),
        url_ttl=None,
        # GMI's request list (gmicloud SDK) echoes an optional `payload`; entries are
        # matched on it, and a miss counts only after this long (docs/providers/gmi.md).
        list_grace=5.0,
    ),
    "aimlapi": Capabilities(
        provider="aimlapi",
        title="AI/ML API",
        base_url="https://api.aimlapi.com",
        key_env_var="AIMLAPI_API_KEY",
        models=frozenset({"hailuo-02", "video-01"}),
        resolutions=frozenset({"720P", "768P", "1080P"}),
        end_frame=True,
        local_images=True,
        image_formats=_JPEG_PNG,
        default_concurrency=4,
        default_submit_rate=Rate(20, 60.0),
        url_ttl=None,
        list_grace=None,
    ),
    "minimax": Capabilities(
        provider="minimax",
        title="MiniMax",
        base_url="https://api.minimax.io",
        key_env_var="MINIMAX_API_KEY",
        models=frozenset({"hailuo-02", "video-01"}),
        resolutions=frozenset({"512P", "720P", "768P", "1080P"}),
        end_frame=True,
        local_images=True,
        image_formats=frozenset({"JPEG", "PNG", "WEBP"}),
        default_concurrency=5,
        default_submit_rate=Rate(5, 60.0),  # documented 5 RPM for video generation
        url_ttl=3600.0,  # "valid for 1 hour" (Video Download page; older docs said 9 h)
        list_grace=None,  # the v1 API has no task list (docs/providers/minimax.md)
    ),
}
PROVIDER_NAMES: tuple[str, ...] = tuple(CAPABILITIES_BY_PROVIDER)


def model_violations(request: VideoRequest) -> list[str]:
    """Why the model itself cannot make this request (empty when it can)."""
    rules = MODEL_RULES[request.model]
    found: list[str] = []
    if request.duration not in rules.durations:
        allowed = ", ".join(str(d) for d in sorted(rules.durations))
        found.append(f"{request.model} makes {allowed} s videos (got duration {request.duration})")
    if request.resolution not in rules.resolutions:
        allowed = ", ".join(sorted(rules.resolutions))
        found.append(f"{request.model} resolution must be {allowed} (got {request.resolution})")
    longest = rules.max_duration_by_resolution.get(request.resolution)
    if longest is not None and request.duration > longest:
        found.append(
            f"{request.resolution} is only available at {longest} s "
            f"(got duration {request.duration})"
        )
    if request.resolution in rules.needs_first_frame and request.image is None:
        found.append(f"{request.resolution} needs a first frame: add `image:` or use 768P")
    if request.end_image is not None:
        if not rules.end_frame_resolutions:
            found.append(f"{request.model} has no end frame (remove `end_image:`)")
        elif request.resolution not in rules.end_frame_resolutions:
            allowed = ", ".join(sorted(rules.end_frame_resolutions))
            found.append(
                f"first+last frame mode needs resolution {allowed} (got {request.resolution})"
            )
        if request.image is None:
            found.append("`end_image:` needs a first frame `image:` too")
    return found


def provider_violations(caps: Capabilities, request: VideoRequest) -> list[str]:
    """Why this provider cannot serve a request the model allows (empty when it can)."""
    found: list[str] = []
    if request.model not in caps.models:
        found.append(f"does not sell {request.model}")
        return found
    if request.resolution not in caps.resolutions:
        found.append(f"has no {request.resolution}")
    if request.end_image is not None and not caps.end_frame:
        found.append("takes no end frame")
    for image in (request.image, request.end_image):
        if image is None:
            continue
        if image.kind != "url" and not caps.local_images:
            found.append("takes images by public URL only")
        if image.format is not None and image.format not in caps.image_formats:
            found.append(f"does not take {image.format} images")
    return found
