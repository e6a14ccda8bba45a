"""Image references: what is supported is said plainly, and so is an image too large to read."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from hailuo_batch.manifest.images import ImageError, image_ref
from tests.helpers.bigpng import big_png


@pytest.mark.parametrize("text", ["ftp://example.com/a.jpg", "s3://bucket/a.png", "file:///a.png"])
def test_an_unsupported_scheme_is_named_with_what_is_supported(tmp_path: Path, text: str) -> None:
    scheme = text.split(":", 1)[0]
    with pytest.raises(ImageError) as raised:
        image_ref(text, tmp_path)
    assert str(raised.value) == (
        f"unsupported scheme '{scheme}' in {text}: an image is an http or https URL, "
        "a data: URI, or a local file"
    )


def test_url_schemes_are_case_insensitive(tmp_path: Path) -> None:
    assert image_ref("HTTPS://example.com/a.jpg", tmp_path).kind == "url"


def test_a_drive_letter_is_a_path_not_a_scheme(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="image file not found"):
        image_ref("C://frames/a.png", tmp_path)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (14000, 13500),  # over twice the limit: Image.open raises DecompressionBombError
        (10000, 9000),  # over the limit: Image.open warns (an error under pytest)
    ],
)
def test_an_image_over_pillows_pixel_limit_is_too_large_in_pixels(
    tmp_path: Path, width: int, height: int
) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(big_png(width, height))
    with pytest.raises(ImageError) as raised:
        image_ref("big.png", tmp_path)
    assert str(raised.value) == (
        f"{path} is too large: {width} x {height} = {width * height} pixels, "
        f"at most {Image.MAX_IMAGE_PIXELS}; scale it down"
    )


def test_an_image_within_the_limit_is_read(tmp_path: Path) -> None:
    (tmp_path / "ok.png").write_bytes(big_png(4000, 3000))
    ref = image_ref("ok.png", tmp_path)
    assert (ref.format, ref.width, ref.height) == ("PNG", 4000, 3000)
