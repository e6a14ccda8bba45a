"""Job field names, and names that were probably meant as one. Pure.

A CSV column, JSONL key or matrix key that is not a job field is a label and may fill
`{placeholders}`. One that looks like a job field (`Prompt`, `duraton`) and that no
placeholder uses is almost surely a typo: taken as a label it would change nothing, and
the user would get a 6 s video where they asked for 10.
"""

from __future__ import annotations

import difflib
import re

JOB_FIELDS = (
    "id",
    "model",
    "prompt",
    "image",
    "end_image",
    "subject_reference",
    "references",
    "duration",
    "resolution",
    "ratio",
    "audio",
    "prompt_optimizer",
    "fast_pretreatment",
    "samples",
)

# difflib's ratio above which a name is a misspelt field. 0.8 would also catch the common
# labels `idx`, `uid` and `prompt_id`, which score exactly 0.8 against `id` and `prompt`.
CLOSE_SPELLING = 0.85

_SEPARATORS = re.compile(r"[\s-]+")


def meant_field(name: str) -> str | None:
    """The job field `name` probably stands for, or None.

    Either the same name once case, surrounding spaces and inner spaces or dashes are
    ignored (`End Image` is `end_image`), or a close spelling (`duraton`).
    """
    if name in JOB_FIELDS:
        return None
    normal = _SEPARATORS.sub("_", name.strip().lower())
    if normal in JOB_FIELDS:
        return normal
    close = difflib.get_close_matches(normal, JOB_FIELDS, n=1, cutoff=CLOSE_SPELLING)
    return close[0] if close else None


def misnamed(kind: str, name: str, field: str) -> str:
    """The message for a `kind` ("column", "key", "matrix key") that should be `field`."""
    return (
        f"{kind} '{name}' is not a job field: did you mean '{field}'? Rename it: as it "
        "is, it would only be a label and change no video"
    )
