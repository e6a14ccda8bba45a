"""Small real filesystems for journeys that fill a disk or meet a read-only one.

A tmpfs mounted by the test itself (root can, on this kind of machine) gives the real
errno (ENOSPC, EROFS) through every layer: libc, aiofiles, the journal. Where mounting is
not allowed the test is skipped, saying so.
"""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(path: Path, size: str = "4m", *, read_only: bool = False) -> Iterator[Path]:
    """Mount a `size` tmpfs at `path` for the block (read-only if asked)."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        why = mounted.stderr.strip() or f"exit {mounted.returncode}"
        pytest.skip(f"cannot mount a small tmpfs here ({why}); this journey needs a real disk")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path) -> Path:
    """Write a ballast file until the disk is full; delete it to free the space again."""
    ballast = folder / "ballast.bin"
    with ballast.open("wb", buffering=0) as handle:  # unbuffered: nothing left to flush
        for size in (64 * 1024, 4096, 512, 1):  # the last blocks too
            try:
                while True:
                    handle.write(bytes(size))
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return ballast
