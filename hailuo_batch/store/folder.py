"""An output folder read back by `report`, `verify` and the library: its lockfile, or its
journal folded while there is none yet. Reads files.

A run writes its first lockfile at its first checkpoint, a few seconds in; the journal is
the truth from its first event. So a folder with a journal and no lockfile (or a lockfile
that is not JSON) is read from the journal, with every job it knows counted as the
manifest's: it cannot say yet which jobs left the manifest.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from hailuo_batch.core.layout import JOURNAL, LOCKFILE
from hailuo_batch.errors import NotAnOutputFolderError
from hailuo_batch.store.fold import load_state
from hailuo_batch.store.lockfile import JsonDocument, LockDocument, ManifestInfo, lock_document


def read_folder(folder: Path) -> LockDocument:
    """The folder's lockfile, else its journal folded; NotAnOutputFolderError if neither."""
    data = lock_json(folder)
    if data is None:
        data = lock_document(load_state(folder), None, ManifestInfo())
    return LockDocument.from_json(data)


def lock_json(folder: Path) -> JsonDocument | None:
    """The lockfile as JSON; None where the journal must be read instead (no lockfile yet,
    or one that is not a lockfile). NotAnOutputFolderError if there is no journal either."""
    journal = (folder / JOURNAL).is_file()
    try:
        data = orjson.loads((folder / LOCKFILE).read_bytes())
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        if journal:
            return None
        raise NotAnOutputFolderError(str(folder)) from None
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        return data
    if journal:
        return None
    raise NotAnOutputFolderError(str(folder), f"has a {LOCKFILE} that is not a lockfile")
