"""The one exception tree of hailuo-batch, and `Problem`, a located input mistake. No I/O.

    HailuoBatchError
    ├── ManifestError(problems)        bad input: exit 2, nothing sent
    ├── ProviderError(kind, provider, status, message, retry_after)
    │                                  a classified answer from a provider (or the wire)
    ├── OutputLockedError(path)        another run holds the output folder: exit 3
    ├── NotAnOutputFolderError(path)   a folder without a lockfile given to report/verify: exit 2
    └── simulator.persistence.TaskFileError   a simulator task file we cannot read: exit 2

    TransportError(sent)               no usable answer came back; `sent` says whether the
                                       request may have reached the server (not a
                                       HailuoBatchError: the engine always handles it)

The CLI turns `HailuoBatchError` into an exit code in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from hailuo_batch.core.jobs import ErrorKind

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in the input, located as precisely as we know: file, line, job."""

    file: str
    line: int | None
    message: str
    job: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        job = ""
        if self.job:
            job = f" job {self.job}:" if self.job.startswith("#") else f" job '{self.job}':"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}:{job} {prefix}{self.message}"


class HailuoBatchError(Exception):
    """Root of every error hailuo-batch raises on purpose."""


class ManifestError(HailuoBatchError):
    """The manifest (or a file it names) is wrong; `problems` lists every mistake found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in errors) or "invalid manifest")


class ProviderError(HailuoBatchError):
    """A provider's answer (or a failure to get one) classified into the shared taxonomy.

    `retry_after` is in seconds, set only when the provider said how long to wait.
    Messages never carry an API key: adapters build them from response bodies only.
    """

    def __init__(
        self,
        kind: ErrorKind,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.kind = kind
        self.provider = provider
        self.status = status
        self.message = message
        self.retry_after = retry_after
        super().__init__(f"{provider}: {kind}: {message}")

    @property
    def retryable(self) -> bool:
        return self.kind in ("rate_limited", "transient")


class OutputLockedError(HailuoBatchError):
    """Another run is using the output folder."""

    def __init__(self, path: str, holder: str) -> None:
        self.path = path
        super().__init__(f"{path} is in use by another run ({holder}); wait for it or stop it")


class NotAnOutputFolderError(HailuoBatchError):
    """A folder given to `report` or `verify` has no lockfile: no run has written to it."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"{path} has no manifest.lock.json: it is not an output folder of hailuo-batch "
            "(give the folder a manifest's `output:` or `--out` names, after a `run`)"
        )


class TransportError(Exception):
    """No usable answer came back. `sent`: the request may have reached the server."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


def short(value: Any, limit: int = 60) -> str:
    """A value for a message: never a whole huge instance."""
    text = repr(value)
    if isinstance(value, dict):
        text = "a mapping"
    elif isinstance(value, list):
        text = f"a list of {len(value)}"
    return text if len(text) <= limit else text[: limit - 3] + "..."
