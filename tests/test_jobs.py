"""Job keys: stable under reordering and provider changes, sensitive to every field."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from hailuo_batch.core.jobs import ImageRef, Model, VideoRequest, job_key
from hailuo_batch.manifest.document import load_manifest
from hailuo_batch.manifest.images import image_ref
from hailuo_batch.manifest.plan import build_plan
from hailuo_batch.manifest.rows import read_rows

requests = st.builds(
    VideoRequest,
    model=st.sampled_from(["hailuo-02", "video-01"]),
    prompt=st.text(min_size=1, max_size=50),
    duration=st.sampled_from([6, 10]),
    resolution=st.sampled_from(["512P", "768P", "1080P"]),
    prompt_optimizer=st.booleans(),
    fast_pretreatment=st.booleans(),
    image=st.none() | st.builds(ImageRef, source=st.text(min_size=1), kind=st.just("url")),
)


def test_the_key_of_a_known_request_never_changes() -> None:
    """A changed key derivation would redo, and pay again for, every finished job of every
    output folder: these values were computed by 0.1.0 and must stay."""
    request = VideoRequest("hailuo-02", "a red fox in snow", 6, "768P")
    assert job_key(request, 0) == "1dd199d922ec5a3991241741a8e3bd98a352ff22c189e1fe27ade35661945737"
    assert job_key(request, 1) == "d43572014cf7fc3fa34311baf47862944213f1690218c37fbd791d9e9b77abc7"


@given(requests, st.integers(0, 5))
def test_key_is_the_sha256_of_the_documented_canonical_json(
    request: VideoRequest, sample: int
) -> None:
    """The key is what README and DESIGN say it is, computed here independently."""
    identity = {
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
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert job_key(request, sample) == hashlib.sha256(canonical.encode()).hexdigest()


@given(requests, st.integers(0, 5), st.data())
def test_changing_one_field_changes_the_key(
    request: VideoRequest, sample: int, data: st.DataObject
) -> None:
    """Every field that decides the video is in the key."""
    other_model: Model = "video-01" if request.model == "hailuo-02" else "hailuo-02"
    changed = data.draw(
        st.sampled_from(
            [
                dataclasses.replace(request, prompt=request.prompt + "!"),
                dataclasses.replace(request, duration=16 - request.duration),
                dataclasses.replace(request, prompt_optimizer=not request.prompt_optimizer),
                dataclasses.replace(request, fast_pretreatment=not request.fast_pretreatment),
                dataclasses.replace(request, model=other_model),
                dataclasses.replace(request, end_image=ImageRef("https://x/y.png", "url")),
            ]
        )
    )
    assert job_key(changed, sample) != job_key(request, sample)
    assert job_key(request, sample + 1) != job_key(request, sample)


def test_key_of_a_local_image_is_its_bytes_not_its_path(tmp_path: Path) -> None:
    """Moving an image file does not redo the job; changing its bytes does."""
    src = Path(__file__).parent.parent / "samples" / "images" / "car.jpg"
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    a.write_bytes(src.read_bytes())
    b.write_bytes(src.read_bytes())
    base = VideoRequest("hailuo-02", "p", 6, "768P")
    key_a = job_key(dataclasses.replace(base, image=image_ref(str(a), tmp_path)), 0)
    key_b = job_key(dataclasses.replace(base, image=image_ref(str(b), tmp_path)), 0)
    assert key_a == key_b


def _keys(tmp_path: Path, provider: str, jobs: list[str]) -> dict[str, str]:
    path = tmp_path / f"m-{provider}-{len(jobs)}-{hash(tuple(jobs))}.yaml"
    path.write_text(f"version: 1\nprovider: {provider}\njobs:\n" + "".join(jobs))
    plan = build_plan(load_manifest(path), read_rows, image_ref)
    return {job.id: job.key for job in plan.jobs}


@given(st.permutations(list(range(4))), st.sampled_from(["novita", "aimlapi", "minimax"]))
def test_reordering_jobs_or_switching_provider_keeps_keys(order: list[int], provider: str) -> None:
    jobs = [
        f"  - id: j{i}\n    prompt: 'scene {i}'\n    duration: {6 if i % 2 else 10}\n"
        for i in range(4)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        base = _keys(Path(tmp), "novita", jobs)
        shuffled = _keys(Path(tmp), provider, [jobs[i] for i in order])
    assert base == shuffled
