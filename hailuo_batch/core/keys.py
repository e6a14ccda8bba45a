"""API keys as the environment holds them: trimmed, and refused when they cannot be a key.
No I/O: the environment is passed in.

Keys come from environment variables only (never from a manifest). A Kubernetes secret
made from a file ends in a newline, so surrounding whitespace is trimmed; a control
character inside the key cannot go into an HTTP header, and trimming would change the
key, so it is an error naming the variable (never showing the key).
"""

from __future__ import annotations

from collections.abc import Mapping

from hailuo_batch.errors import KeyFormatError


def api_key(environ: Mapping[str, str], variable: str) -> str:
    """The key in `variable`, trimmed ("" when unset); KeyFormatError if it is malformed."""
    key = environ.get(variable, "").strip()
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in key):
        raise KeyFormatError(variable)
    return key
