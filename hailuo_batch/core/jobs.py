"""Jobs, our unit of work, and their identity (`job_key`). Values only, no I/O.

Words used everywhere: a *job* is ours, a *task* is the provider's, an *attempt* is one
submit, a *sample* is one of N independent generations of the same request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal, get_args

import orjson

Model = Literal[
    "hailuo-02",
    "hailuo-2.3",
    "hailuo-2.3-fast",
    "h3",
    "video-01",  # the 01 family's first name: T2V-01, or I2V-01 with a first frame
    "t2v-01",
    "t2v-01-director",
    "i2v-01",
    "i2v-01-director",
    "i2v-01-live",
    "s2v-01",
]
MODELS: tuple[Model, ...] = get_args(Model)
MIME_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

JobState = Literal[
    "pending",  # known locally, never sent
    "submitting",  # intent journaled, answer not yet back
    "unknown",  # a submit may have reached the provider but no answer came back
    "submitted",  # the provider accepted it: task id known
    "queued",
    "running",
    "downloading",  # the provider succeeded; fetching the video
    "done",
    "failed",
]
TERMINAL_STATES: frozenset[JobState] = frozenset({"done", "failed"})

FailureKind = Literal[
    "invalid_input",
    "content_policy",
    "auth",
    "quota",
    "provider_error",
    "expired",  # paid output no longer fetchable
    "budget",
]
"""Why a job ended `failed`: one taxonomy shared by adapters, engine, lock and report."""

ErrorKind = Literal[FailureKind, "rate_limited", "transient"]
"""What a provider error means; `rate_limited` and `transient` only drive backoff."""


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A first or last frame as the manifest gave it, with what is known of its bytes.

    `source` is a URL, a `data:` URI, or an absolute local path: what the engine reads.
    `relative` is a local file's path from the manifest's folder: what outputs record.
    `sha256` is of the bytes (None for URLs, which are never fetched: the URL itself is
    the identity).
    """

    source: str
    kind: Literal["path", "url", "data"]
    sha256: str | None = None
    format: str | None = None  # JPEG, PNG, WEBP, as read from the content
    width: int | None = None
    height: int | None = None
    size: int | None = None  # bytes
    relative: str | None = None  # a local file, from the manifest's folder

    @property
    def recorded(self) -> str:
        """How the lock and every output name the image: never an absolute local path (it
        would leak the user's folders into shared data), never a data: URI's whole base64
        (megabytes per line); a URL as it is."""
        if self.kind == "url":
            return self.source
        if self.kind == "data":
            mime = MIME_BY_FORMAT.get(self.format or "", "application/octet-stream")
            return f"data:{mime};sha256={self.sha256}"
        return self.relative or PurePath(self.source).name

    @property
    def identity(self) -> str:
        """What the job key hashes: the bytes' digest, or the URL when we have no bytes."""
        return f"sha256:{self.sha256}" if self.sha256 else self.source


ReferenceKind = Literal["image", "video", "audio"]


@dataclass(frozen=True, slots=True)
class Reference:
    """H3's reference media: an image (a local file or a URL), or a video or audio URL."""

    kind: ReferenceKind
    media: ImageRef

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, **(_image_json(self.media) or {})}


@dataclass(frozen=True, slots=True)
class VideoRequest:
    """Everything that decides the video, in neutral names every adapter maps from.

    `subject_reference` is S2V-01's character image; `references`, `ratio` and `audio` are H3's
    (audio: None for the model's own way, which for H3 is always on).
    """

    model: Model
    prompt: str
    duration: int
    resolution: str
    prompt_optimizer: bool = True
    fast_pretreatment: bool = False
    image: ImageRef | None = None
    end_image: ImageRef | None = None
    subject_reference: ImageRef | None = None
    references: tuple[Reference, ...] = ()
    ratio: str | None = None
    audio: bool | None = None

    def images(self) -> tuple[ImageRef, ...]:
        """Every image the request sends: frames, subject, reference images."""
        found = [self.image, self.end_image, self.subject_reference]
        found += [ref.media for ref in self.references if ref.kind == "image"]
        return tuple(image for image in found if image is not None)

    def to_json(self) -> dict[str, object]:
        """The request as recorded in the lock and results (images by reference); the
        newer fields only when set, so older records read the same."""
        data: dict[str, object] = {
            "model": self.model,
            "prompt": self.prompt,
            "duration": self.duration,
            "resolution": self.resolution,
            "prompt_optimizer": self.prompt_optimizer,
            "fast_pretreatment": self.fast_pretreatment,
            "image": _image_json(self.image),
            "end_image": _image_json(self.end_image),
        }
        if self.subject_reference is not None:
            data["subject_reference"] = _image_json(self.subject_reference)
        if self.references:
            data["references"] = [ref.to_json() for ref in self.references]
        if self.ratio is not None:
            data["ratio"] = self.ratio
        if self.audio is not None:
            data["audio"] = self.audio
        return data


def _image_json(image: ImageRef | None) -> dict[str, object] | None:
    if image is None:
        return None
    return {"source": image.recorded, "sha256": image.sha256}


@dataclass(frozen=True, slots=True)
class Source:
    """Where a job came from: the manifest (or CSV/JSONL) file and line.

    `file` is as problems name it (the path as given); `relative` is the file's path from
    the manifest's folder, as the lock and outputs record it.
    """

    file: str
    line: int | None
    relative: str | None = None

    def to_json(self) -> dict[str, object]:
        """The source as recorded: no absolute local path, whatever the user typed."""
        return {"file": self.relative or PurePath(self.file).name, "line": self.line}


@dataclass(frozen=True, slots=True)
class Job:
    """One video to make: a request, which sample of it, and where it was declared.

    `meta` holds the job's labels: a `from:` row's columns and a matrix's keys that are
    not job fields, for the lock and results to carry. They are not in the job's key:
    labels do not decide the video.
    """

    id: str
    key: str
    request: VideoRequest
    sample: int  # 0-based
    providers: tuple[str, ...]  # failover order
    source: Source
    meta: Mapping[str, object] = field(default_factory=dict, hash=False)


def job_key(request: VideoRequest, sample: int) -> str:
    """sha256 of the canonical JSON of what decides the video.

    Canonical form, pinned to one serializer: `orjson.dumps(obj, option=OPT_SORT_KEYS)`:
    UTF-8 (non-ASCII kept as is, not \\u-escaped), no whitespace, keys sorted. The object
    holds only strings, integers, booleans and null, so there is no float formatting to
    drift. The provider is deliberately absent: failing over never redoes finished work.
    Fields added after 0.1.0 enter only when set, so every earlier job keeps its key.
    """
    identity: dict[str, object] = {
        "model": request.model,
        "prompt": request.prompt,
        "image": request.image.identity if request.image else None,
        "end_image": request.end_image.identity if request.end_image else None,
        "duration": request.duration,
        "resolution": request.resolution,
        "prompt_optimizer": request.prompt_optimizer,
        "fast_pretreatment": request.fast_pretreatment,
        "sample": sample,
    }
    if request.subject_reference is not None:
        identity["subject_reference"] = request.subject_reference.identity
    if request.references:
        identity["references"] = [f"{r.kind}:{r.media.identity}" for r in request.references]
    if request.ratio is not None:
        identity["ratio"] = request.ratio
    if request.audio is not None:
        identity["audio"] = request.audio
    return hashlib.sha256(orjson.dumps(identity, option=orjson.OPT_SORT_KEYS)).hexdigest()
