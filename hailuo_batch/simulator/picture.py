"""The still every frame of a simulated video shows: first frame or card, prompt, watermark. No I/O.

A simulated clip must never pass for a generated one, so every frame carries a band
across its bottom tenth reading SIMULATED (white on crimson). Above it: the submit's
first-frame image, scaled and centre-cropped to fill the frame (the frame already has
the image's aspect, see `video.frame_size`), or, without one, a test card (an orange box
on blue; coloured by the prompt when that is drawn). With `SimConfig.draw_prompts` the
prompt is written at the top as well, a few wrapped lines on a dark panel, so a small
gallery of simulated clips tells them apart.
"""

from __future__ import annotations

import colorsys
import hashlib

from PIL import Image, ImageDraw, ImageFont, ImageOps

from hailuo_batch.simulator.video import Look

WATERMARK = "SIMULATED"
BAND = (200, 16, 64)  # the watermark band: a colour no test card or sample image uses
INK = (255, 255, 255)
CARD, CARD_BOX = (24, 48, 96), (224, 128, 32)
CAPTION_LINES = 4
_PANEL = (0, 0, 0, 160)  # translucent, so the first frame still shows behind the prompt

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def still(look: Look, first_frame: Image.Image | None) -> Image.Image:
    """The picture of `look` at its frame size; `first_frame` is its image when it has one."""
    size = (look.spec.width, look.spec.height)
    if first_frame is None:
        canvas = card(*size, tint=look.caption)
    else:
        canvas = ImageOps.fit(first_frame.convert("RGB"), size, Image.Resampling.BILINEAR)
    if look.caption:
        canvas = _caption(canvas, look.caption)
    _watermark(canvas)
    return canvas


def card(width: int, height: int, tint: str | None = None) -> Image.Image:
    """The test card of a text-to-video task; with a drawn prompt (`tint`), its box takes a
    colour of its own, so the cards of a small gallery differ at a glance."""
    image = Image.new("RGB", (width, height), CARD)
    box = (width // 4, height // 4, width * 3 // 4, height * 3 // 4)
    fill = CARD_BOX
    if tint:
        hue = hashlib.sha256(tint.encode()).digest()[0] / 255
        red, green, blue = colorsys.hsv_to_rgb(hue, 0.75, 0.9)
        fill = (int(red * 255), int(green * 255), int(blue * 255))
    ImageDraw.Draw(image).rectangle(box, fill=fill)
    return image


def band_height(height: int) -> int:
    """Rows of the watermark band at the bottom of a frame `height` pixels tall."""
    return max(12, height // 10)


def _font(size: int) -> Font:
    """Pillow's bundled font at `size` px; Pillow 10.0 has only its small bitmap font."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # load_default() took no size before Pillow 10.1
        return ImageFont.load_default()


def _watermark(canvas: Image.Image) -> None:
    width, height = canvas.size
    band = band_height(height)
    top = height - band
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, top, width, height), fill=BAND)
    font = _font(max(8, band * 6 // 10))
    left, upper, right, lower = draw.textbbox((0, 0), WATERMARK, font=font)
    x = (width - (right - left)) // 2 - left
    y = top + (band - (lower - upper)) // 2 - upper
    draw.text((x, y), WATERMARK, fill=INK, font=font)


def _caption(canvas: Image.Image, text: str) -> Image.Image:
    width, height = canvas.size
    font = _font(max(8, height // 24))
    margin = max(4, height // 48)
    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    lines = wrap(text, font, width - 4 * margin, draw)
    spacing = margin // 2
    block = draw.multiline_textbbox((0, 0), "\n".join(lines), font=font, spacing=spacing)
    panel = (margin, margin, width - margin, margin * 3 + block[3] - block[1])
    draw.rectangle(panel, fill=_PANEL)
    origin = (2 * margin - block[0], 2 * margin - block[1])
    draw.multiline_text(origin, "\n".join(lines), fill=INK, font=font, spacing=spacing)
    return Image.alpha_composite(canvas.convert("RGBA"), overlay).convert("RGB")


def wrap(text: str, font: Font, width: int, draw: ImageDraw.ImageDraw) -> list[str]:
    """`text` in at most `CAPTION_LINES` lines no wider than `width` px, cut with an ellipsis."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if len(lines) > CAPTION_LINES:
            break  # the rest is cut off anyway
        candidate = f"{line} {word}" if line else word
        while draw.textlength(candidate, font=font) > width and len(candidate) > 1:
            if line:  # the word starts a new line
                lines.append(line)
                line, candidate = "", word
                continue
            cut = _fitting(candidate, font, width, draw)  # one word wider than the frame
            lines.append(candidate[:cut])
            candidate = candidate[cut:]
        line = candidate
    if line:
        lines.append(line)
    if len(lines) > CAPTION_LINES:
        last = lines[CAPTION_LINES - 1]
        while last and draw.textlength(last + " ...", font=font) > width:
            last = last[:-1]
        lines = [*lines[: CAPTION_LINES - 1], last + " ..."]
    return lines


def _fitting(word: str, font: Font, width: int, draw: ImageDraw.ImageDraw) -> int:
    """How many leading characters of `word` fit in `width` px (at least one)."""
    count = 1
    while count < len(word) and draw.textlength(word[: count + 1], font=font) <= width:
        count += 1
    return count
