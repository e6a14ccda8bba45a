"""What each model can make and what each provider sells of it, as data, with the rules that
read it. No I/O.

One table serves `validate` (can anyone in the job's list make this video?), the engine
(which provider takes this job next?), the adapters (which wire id, which fields) and
`hailuo-batch models`. Adding a model is a `MODEL_RULES` row and an `Offer` per provider
that sells it. Every fact has its source in docs/providers/ (README's matrix), with a
confidence: H the provider's own docs or code, M consistent secondary sources, L one
secondary source, UNVERIFIED none (the adapter is then lenient). Times are in seconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from hailuo_batch.core.jobs import MODELS, Model, VideoRequest

MAX_PROMPT_CHARS = 2000
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MIN_IMAGE_SHORT_SIDE = 301  # "short side > 300 px"
MIN_ASPECT, MAX_ASPECT = 2 / 5, 5 / 2

Confidence = Literal["H", "M", "L", "UNVERIFIED"]
ImageUse = Literal["optional", "required", "none"]
OPTIONS = frozenset({"prompt_optimizer", "fast_pretreatment"})


@dataclass(frozen=True, slots=True)
class ModelRules:
    """The model's own limits, the same at every provider that sells it."""

    title: str
    durations: frozenset[int]
    resolutions: frozenset[str]
    default_duration: int
    default_resolution: str
    max_duration_by_resolution: Mapping[str, int] = field(default_factory=dict)
    needs_first_frame: frozenset[str] = frozenset()  # resolutions only image-to-video
    end_frame_resolutions: frozenset[str] = frozenset()  # empty: the model has no end frame
    image: ImageUse = "optional"  # the first frame
    subject: bool = False  # S2V: made from a subject reference image, which it requires
    references: bool = False  # H3: reference images, videos and audio
    ratios: frozenset[str] = frozenset()  # H3: the frame's shape ("16:9", "adaptive", ...)
    audio: bool = False  # makes a sound track (H3 always does: no provider has a switch)
    options: frozenset[str] = OPTIONS  # prompt options it takes
    max_prompt: int = MAX_PROMPT_CHARS
    prompt_required: bool = False  # even where an image leads (else only for text-to-video)


def _family_01(title: str, image: ImageUse = "optional", *, subject: bool = False) -> ModelRules:
    """The 01 family: 6 s at 720P, a prompt optimizer, no fast pretreatment."""
    return ModelRules(
        title=title,
        durations=frozenset({6}),
        resolutions=frozenset({"720P"}),
        default_duration=6,
        default_resolution="720P",
        image=image,
        subject=subject,
        options=frozenset({"prompt_optimizer"}),
    )


H3_RATIOS = frozenset({"adaptive", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"})

MODEL_RULES: dict[Model, ModelRules] = {
    "hailuo-02": ModelRules(
        title="Hailuo-02",
        durations=frozenset({6, 10}),
        resolutions=frozenset({"512P", "768P", "1080P"}),
        default_duration=6,
        default_resolution="768P",
        max_duration_by_resolution={"1080P": 6},
        needs_first_frame=frozenset({"512P"}),
        end_frame_resolutions=frozenset({"768P", "1080P"}),
    ),
    "hailuo-2.3": ModelRules(
        title="Hailuo-2.3",
        durations=frozenset({6, 10}),
        resolutions=frozenset({"768P", "1080P"}),
        default_duration=6,
        default_resolution="768P",
        max_duration_by_resolution={"1080P": 6},
    ),
    "hailuo-2.3-fast": ModelRules(
        title="Hailuo-2.3-Fast",
        durations=frozenset({6, 10}),
        resolutions=frozenset({"768P", "1080P"}),
        default_duration=6,
        default_resolution="768P",
        max_duration_by_resolution={"1080P": 6},
        image="required",
    ),
    "h3": ModelRules(
        title="H3",
        durations=frozenset(range(4, 16)),
        resolutions=frozenset({"768P", "2K"}),
        default_duration=6,
        default_resolution="768P",
        end_frame_resolutions=frozenset({"768P", "2K"}),
        references=True,
        ratios=H3_RATIOS,
        audio=True,
        options=frozenset(),
        max_prompt=7000,
        prompt_required=True,  # MiniMax's V2 API requires a non-empty text item (H)
    ),
    "video-01": _family_01("Video-01 (T2V-01, or I2V-01 with a first frame)"),
    "t2v-01": _family_01("T2V-01", "none"),
    "t2v-01-director": _family_01("T2V-01-Director", "none"),
    "i2v-01": _family_01("I2V-01", "required"),
    "i2v-01-director": _family_01("I2V-01-Director", "required"),
    "i2v-01-live": _family_01("I2V-01-live", "required"),
    "s2v-01": _family_01("S2V-01", "none", subject=True),
}
assert set(MODEL_RULES) == set(MODELS), "every model has its rules"


@dataclass(frozen=True, slots=True)
class Offer:
    """One provider's sale of one model: its wire id (or path) and what of the model it
    sells. `None` limits mean the model's own; `False` features are refused up front."""

    wire: str
    confidence: Confidence
    source: str  # where in docs/providers/ the row comes from
    durations: frozenset[int] | None = None
    resolutions: frozenset[str] | None = None
    end_frame: bool = True  # where the model has one
    references: bool = True  # where the model takes them
    subject: bool = True  # where the model takes one
    local_images: bool = True  # False: frames must be public URLs (no data: URIs)
    ratios: frozenset[str] | None = None
    # Limits on top of the model's own: the longest duration at a resolution, and the
    # prompt options its wire has fields for (None: every option the model takes).
    max_duration_by_resolution: Mapping[str, int] = field(default_factory=dict)
    options: frozenset[str] | None = None


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
    offers: Mapping[Model, Offer]
    image_formats: frozenset[str]
    default_concurrency: int
    default_submit_rate: Rate
    url_ttl: float | None  # how long a result URL lives, when documented
    list_grace: float | None
    """Seconds after a submit by which the provider's task list must show the task, so a
    miss there proves a lost submit created nothing; None: no documented list can find
    such a task, so a lost submit is counted as a possible duplicate."""

    @property
    def models(self) -> frozenset[Model]:
        return frozenset(self.offers)


_JPEG_PNG = frozenset({"JPEG", "PNG"})
_JPEG_PNG_WEBP = frozenset({"JPEG", "PNG", "WEBP"})
_768_1080 = frozenset({"768P", "1080P"})
_OPTIMIZER_ONLY = frozenset({"prompt_optimizer"})  # no `fast_pretreatment` field
_M = "docs/providers/minimax.md"
_N = "docs/providers/novita.md"
_G = "docs/providers/gmi.md"
_A = "docs/providers/aimlapi.md"
_F = "docs/providers/fal.md"
_R = "docs/providers/replicate.md"

_NOVITA_OFFERS: dict[Model, Offer] = {
    "hailuo-02": Offer("minimax-hailuo-02", "H", _N, resolutions=_768_1080),
    "hailuo-2.3": Offer("minimax-hailuo-2.3-{t2v|i2v}", "H", _N),
    "hailuo-2.3-fast": Offer("minimax-hailuo-2.3-fast-i2v", "H", _N, options=_OPTIMIZER_ONLY),
    "h3": Offer("minimax/v2 (MiniMax-H3)", "H", _N),
    # The Video-01 endpoint takes its first frame as a public URL only (image_url).
    "video-01": Offer("minimax-video-01", "H", _N, local_images=False),
    "t2v-01": Offer("minimax-video-01", "M", _N),
    "i2v-01": Offer("minimax-video-01", "H", _N, local_images=False),
}

CAPABILITIES_BY_PROVIDER: dict[str, Capabilities] = {
    "minimax": Capabilities(
        provider="minimax",
        title="MiniMax",
        base_url="https://api.minimax.io",
        key_env_var="MINIMAX_API_KEY",
        offers={
            "hailuo-02": Offer("MiniMax-Hailuo-02", "H", _M),
            "hailuo-2.3": Offer("MiniMax-Hailuo-2.3", "H", _M),
            "hailuo-2.3-fast": Offer("MiniMax-Hailuo-2.3-Fast", "H", _M),
            "h3": Offer("MiniMax-H3", "H", _M),
            # `video-01` is gone from the current enums: T2V-01 or I2V-01 by the image.
            "video-01": Offer("T2V-01|I2V-01", "M", _M),
            "t2v-01": Offer("T2V-01", "H", _M),
            "t2v-01-director": Offer("T2V-01-Director", "H", _M),
            "i2v-01": Offer("I2V-01", "H", _M),
            "i2v-01-director": Offer("I2V-01-Director", "H", _M),
            "i2v-01-live": Offer("I2V-01-live", "H", _M),
            "s2v-01": Offer("S2V-01", "H", _M),
        },
        image_formats=_JPEG_PNG_WEBP,
        default_concurrency=5,
        default_submit_rate=Rate(5, 60.0),  # documented 5 RPM for video generation
        url_ttl=3600.0,  # "valid for 1 hour" (Video Download page; older docs said 9 h)
        list_grace=None,  # the v1 API has no task list; V2's entries carry no input
    ),
    "novita": Capabilities(
        provider="novita",
        title="Novita AI",
        base_url="https://api.novita.ai",
        key_env_var="NOVITA_API_KEY",
        offers=_NOVITA_OFFERS,
        image_formats=_JPEG_PNG,
        default_concurrency=5,
        default_submit_rate=Rate(20, 60.0),  # per-model RPM, values UNVERIFIED
        url_ttl=3600.0,  # presigned COS URL, 1 h
        list_grace=None,
    ),
    "gmi": Capabilities(
        provider="gmi",
        title="GMI Cloud",
        base_url="https://console.gmicloud.ai",
        key_env_var="GMI_API_KEY",
        offers={
            # UNVERIFIED: GMI confirms Minimax-Hailuo-2.3(-Fast); 02 follows the pattern.
            "hailuo-02": Offer(
                "Minimax-Hailuo-02", "UNVERIFIED", _G, end_frame=False, local_images=False
            ),
            "hailuo-2.3": Offer("Minimax-Hailuo-2.3", "H", _G, local_images=False),
            "hailuo-2.3-fast": Offer("Minimax-Hailuo-2.3-Fast", "H", _G, local_images=False),
            "h3": Offer("MiniMax-H3", "M", _G, local_images=False),
        },
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
        offers={
            # No Hailuo schema of AI/ML API has a `fast_pretreatment` field.
            "hailuo-02": Offer(
                "minimax/hailuo-02", "H", _A, resolutions=_768_1080, options=_OPTIMIZER_ONLY
            ),
            "hailuo-2.3": Offer("minimax/hailuo-2.3", "H", _A, options=_OPTIMIZER_ONLY),
            "hailuo-2.3-fast": Offer("minimax/hailuo-2.3-fast", "H", _A, options=_OPTIMIZER_ONLY),
            "h3": Offer("minimax/h3", "H", _A, resolutions=frozenset({"2K"})),
            "video-01": Offer("video-01", "H", _A),
            "t2v-01": Offer("video-01", "H", _A),
            "i2v-01": Offer("video-01", "H", _A),
            "i2v-01-live": Offer("video-01-live2d", "L", _A),
        },
        image_formats=_JPEG_PNG,
        default_concurrency=4,
        default_submit_rate=Rate(20, 60.0),
        url_ttl=None,
        list_grace=None,
    ),
    "fal": Capabilities(
        provider="fal",
        title="fal.ai",
        base_url="https://queue.fal.run",
        key_env_var="FAL_KEY",
        # Frames may be data URIs: fal-client's README passes `encode_file` data URLs as
        # inputs (per model UNVERIFIED; the runner would refuse one with a 422).
        offers={
            # standard tier: 512P/768P with a `duration` string; pro tier: 1080P at 6 s;
            # no endpoint has a `fast_pretreatment` field (fal-js endpoint types)
            "hailuo-02": Offer(
                "fal-ai/minimax/hailuo-02/{tier}/{mode}", "H", _F, options=_OPTIMIZER_ONLY
            ),
            "hailuo-2.3": Offer(
                "fal-ai/minimax/hailuo-2.3/{tier}/{mode}", "H", _F, options=_OPTIMIZER_ONLY
            ),
            "hailuo-2.3-fast": Offer(
                "fal-ai/minimax/hailuo-2.3-fast/{tier}/image-to-video",
                "H",
                _F,
                options=_OPTIMIZER_ONLY,
            ),
            "video-01": Offer("fal-ai/minimax/video-01[/image-to-video]", "H", _F),
            "t2v-01": Offer("fal-ai/minimax/video-01", "H", _F),
            "i2v-01": Offer("fal-ai/minimax/video-01/image-to-video", "H", _F),
            "t2v-01-director": Offer("fal-ai/minimax/video-01-director", "H", _F),
            "i2v-01-director": Offer("fal-ai/minimax/video-01-director/image-to-video", "H", _F),
            "i2v-01-live": Offer("fal-ai/minimax/video-01-live/image-to-video", "H", _F),
            "s2v-01": Offer("fal-ai/minimax/video-01-subject-reference", "H", _F),
        },
        image_formats=_JPEG_PNG_WEBP,
        default_concurrency=2,  # fal starts accounts at 2 concurrent requests (up to 40)
        default_submit_rate=Rate(10, 1.0),  # 10 requests/s (FAQ)
        url_ttl=7 * 86400.0,  # media on fal's CDN lives at least 7 days
        list_grace=None,  # the by-endpoint list may not show requests in flight: UNVERIFIED
    ),
    "replicate": Capabilities(
        provider="replicate",
        title="Replicate",
        base_url="https://api.replicate.com",
        key_env_var="REPLICATE_API_TOKEN",
        offers={
            # Version pages c43b610e, 23a02633: "10 seconds is only available for 768p
            # resolution", and `prompt_optimizer` is the only prompt option (no
            # fast_pretreatment field).
            "hailuo-02": Offer(
                "minimax/hailuo-02",
                "H",
                _R,
                max_duration_by_resolution={"512P": 6},
                options=_OPTIMIZER_ONLY,
            ),
            "hailuo-2.3": Offer("minimax/hailuo-2.3", "H", _R, options=_OPTIMIZER_ONLY),
            "video-01": Offer("minimax/video-01", "H", _R),
            "t2v-01": Offer("minimax/video-01", "H", _R),
            "i2v-01": Offer("minimax/video-01", "H", _R),
            "t2v-01-director": Offer("minimax/video-01-director", "H", _R),
            "i2v-01-director": Offer("minimax/video-01-director", "H", _R),
            "i2v-01-live": Offer("minimax/video-01-live", "M", _R),
            "s2v-01": Offer("minimax/video-01", "H", _R),
        },
        image_formats=_JPEG_PNG_WEBP,
        default_concurrency=5,
        default_submit_rate=Rate(600, 60.0),  # 600 prediction creates a minute
        url_ttl=3600.0,  # outputs of API predictions are deleted after 1 hour
        # `GET /v1/predictions` keeps inputs for an hour, but whether a prediction still in
        # flight is listed with its input is UNVERIFIED: a lost reply counts as a duplicate.
        list_grace=None,
    ),
}
# HighwayAPI (jiekou.ai) is a Novita white-label: Novita's protocol at another host,
# without H3 (not found in its API spec).
CAPABILITIES_BY_PROVIDER["highway"] = replace(
    CAPABILITIES_BY_PROVIDER["novita"],
    provider="highway",
    title="HighwayAPI",
    base_url="https://api.highwayapi.ai",
    key_env_var="HIGHWAY_API_KEY",
    offers={model: offer for model, offer in _NOVITA_OFFERS.items() if model != "h3"},
)
PROVIDER_NAMES: tuple[str, ...] = (
    "novita", "highway", "gmi", "aimlapi", "minimax", "fal", "replicate",
)  # fmt: skip
CAPABILITIES_BY_PROVIDER = {name: CAPABILITIES_BY_PROVIDER[name] for name in PROVIDER_NAMES}


def model_violations(request: VideoRequest) -> list[str]:
    """Why the model itself cannot make this request (empty when it can)."""
    rules = MODEL_RULES[request.model]
    model = request.model
    found: list[str] = []
    if request.duration not in rules.durations:
        found.append(
            f"{model} makes {_durations(rules.durations)} s videos "
            f"(got duration {request.duration})"
        )
    if request.resolution not in rules.resolutions:
        allowed = _resolutions(rules.resolutions)
        found.append(f"{model} resolution must be {allowed} (got {request.resolution})")
    longest = rules.max_duration_by_resolution.get(request.resolution)
    if longest is not None and request.duration > longest:
        found.append(
            f"{request.resolution} is only available at {longest} s "
            f"(got duration {request.duration})"
        )
    if request.resolution in rules.needs_first_frame and request.image is None:
        found.append(f"{request.resolution} needs a first frame: add `image:` or use 768P")
    if rules.image == "required" and request.image is None:
        found.append(f"{model} makes video from an image: add `image:`{_who_else('text')}")
    if rules.image == "none" and request.image is not None:
        found.append(f"{model} takes no first frame (remove `image:`){_who_else('image')}")
    if request.end_image is not None:
        if not rules.end_frame_resolutions:
            found.append(f"{model} has no last frame{_who_else('end_image')}")
        elif request.resolution not in rules.end_frame_resolutions:
            allowed = _resolutions(rules.end_frame_resolutions)
            found.append(
                f"first+last frame mode needs resolution {allowed} (got {request.resolution})"
            )
        if request.image is None and model != "h3":
            found.append("`end_image:` needs a first frame `image:` too")
    if rules.subject and request.subject_reference is None:
        found.append(f"{model} makes video from a subject: add `subject_reference:` (an image)")
    if not rules.subject and request.subject_reference is not None:
        found.append(f"{model} takes no `subject_reference:`{_who_else('subject')}")
    if request.references and not rules.references:
        found.append(f"{model} takes no `references:`{_who_else('references')}")
    if request.references and (request.image or request.end_image):
        found.append("`references:` cannot be combined with `image:` or `end_image:` (H3 rule)")
    if request.ratio is not None and request.ratio not in rules.ratios:
        found.append(_ratio_problem(model, rules, request.ratio))
    if request.audio is not None and request.audio != rules.audio:
        found.append(
            f"{model} always makes a sound track: no provider has a switch for it"
            if rules.audio
            else f"{model} makes no sound{_who_else('audio')}"
        )
    found += [f"{model} takes no `{option}:`" for option in moved(request, OPTIONS - rules.options)]
    return found


_UNSET_OPTION = {"prompt_optimizer": True, "fast_pretreatment": False}


def moved(request: VideoRequest, options: frozenset[str]) -> list[str]:
    """Which of these prompt options the request moves off their defaults."""
    return [o for o in sorted(options) if getattr(request, o) != _UNSET_OPTION[o]]


def _ratio_problem(model: str, rules: ModelRules, ratio: str) -> str:
    if not rules.ratios:
        return f"{model} takes no `ratio:`{_who_else('ratio')}"
    return f"{model} ratio must be one of {', '.join(sorted(rules.ratios))} (got {ratio})"


RESOLUTION_ORDER = ("512P", "720P", "768P", "1080P", "2K")


def _resolutions(resolutions: frozenset[str]) -> str:
    return ", ".join(sorted(resolutions, key=RESOLUTION_ORDER.index))


def _durations(durations: frozenset[int]) -> str:
    ordered = sorted(durations)
    if len(ordered) > 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]} to {ordered[-1]}"
    return ", ".join(str(d) for d in ordered)


def _has(rules: ModelRules, feature: str) -> bool:
    """Whether a model has a feature the request asks for (or does without it)."""
    match feature:
        case "text":
            return rules.image != "required" and not rules.subject
        case "image":
            return rules.image != "none"
        case "end_image":
            return bool(rules.end_frame_resolutions)
        case "ratio":
            return bool(rules.ratios)
        case _:
            return bool(getattr(rules, feature))


def _sells(offer: Offer, feature: str) -> bool:
    """Whether a provider sells a model's feature (a model may have what a seller lacks)."""
    match feature:
        case "end_image":
            return offer.end_frame
        case "subject":
            return offer.subject
        case "references":
            return offer.references
        case _:
            return True


def _who_else(feature: str) -> str:
    """'; these do: hailuo-02 on minimax, novita, ...': the models with the feature, and
    who sells each with it (the legacy video-01 name aside)."""
    parts = []
    for model, rules in MODEL_RULES.items():
        if model == "video-01" or not _has(rules, feature):
            continue
        able = [
            name for name, caps in CAPABILITIES_BY_PROVIDER.items()
            if model in caps.offers and _sells(caps.offers[model], feature)
        ]  # fmt: skip
        if able:
            parts.append(f"{model} on {', '.join(able)}")
    return f"; these do: {'; '.join(parts)}" if parts else ""


def provider_violations(caps: Capabilities, request: VideoRequest) -> list[str]:
    """Why this provider cannot serve a request the model allows (empty when it can)."""
    offer = caps.offers.get(request.model)
    if offer is None:
        return [f"does not sell {request.model}"]
    found: list[str] = []
    if offer.resolutions is not None and request.resolution not in offer.resolutions:
        found.append(f"sells {request.model} at {_resolutions(offer.resolutions)} only")
    if offer.durations is not None and request.duration not in offer.durations:
        found.append(f"sells {request.model} at {_durations(offer.durations)} s only")
    longest = offer.max_duration_by_resolution.get(request.resolution)
    if longest is not None and request.duration > longest:
        found.append(f"sells {request.model} at {request.resolution} up to {longest} s only")
    if request.end_image is not None and not offer.end_frame:
        found.append(f"takes no last frame for {request.model}")
    if request.subject_reference is not None and not offer.subject:
        found.append(f"takes no subject reference for {request.model}")
    if request.references and not offer.references:
        found.append(f"takes no references for {request.model}")
    found += [f"takes no `{o}:` for {request.model}" for o in unsold_options(offer, request)]
    for image in request.images():
        if image.kind != "url" and not offer.local_images:
            found.append(f"takes {request.model} frames by public URL only")
        if image.format is not None and image.format not in caps.image_formats:
            found.append(f"does not take {image.format} images")
    return found


def unsold_options(offer: Offer, request: VideoRequest) -> list[str]:
    """The prompt options the request sets that the model has and this offer has no field
    for (those the model lacks are the model's own refusal, said once by the model)."""
    if offer.options is None:
        return []
    return moved(request, MODEL_RULES[request.model].options - offer.options)


def sellers(request: VideoRequest) -> list[str]:
    """Every provider that can make this video, in the table's order."""
    return [
        name for name, caps in CAPABILITIES_BY_PROVIDER.items()
        if not provider_violations(caps, request)
    ]  # fmt: skip
