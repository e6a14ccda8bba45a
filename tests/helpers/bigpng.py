"""A valid PNG of any pixel size in a few kilobytes: one-bit black, zlib-compressed rows."""

from __future__ import annotations

import struct
import zlib


def big_png(width: int, height: int) -> bytes:
    """A 1-bit greyscale PNG of `width` x `height` pixels (14000 x 13500 is about 23 kB)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    row = bytes(1 + (width + 7) // 8)  # filter byte, then the row's bits
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
