"""The one exception tree of hailuo-batch, and `Problem`, a located input mistake. No I/O.

    HailuoBatchError                       exit_code: how the CLI exits on it
    ├── ManifestError(problems)            2  bad input, every mistake listed; nothing sent
    ├── OutputFolderError(path, reason)    2  the output folder cannot be used (not ours and
    │                                         not empty, unwritable); nothing sent or written
    ├── KeyFormatError(variable)           2  an API key with control characters; nothing sent
    ├── NotAnOutputFolderError(path)       2  status/report/verify on a folder no run wrote
    ├── JournalError(message)              2  a journal damaged before its last line
    ├── MissingPackageError(what, extra)   2  an output format whose optional package is
    │                                         not installed; says how to install it
    ├── MissingKeyError(provider, ...)     3  a provider holds tasks and its key is not set;
    │                                         nothing sent
    ├── OutputLockedError(path)            3  another run holds the output folder
    ├── DiskFullError(path, free)          3  the disk filled up: stopped, state saved
    ├── ProviderError(kind, provider, status, message, retry_after)
    │                                         a classified answer from a provider (the engine
    │                                         handles it; never reaches the CLI)
    └── simulator.persistence.TaskFileError
                                           2  a simulator task file we cannot read

    TransportError(sent)                   no usable answer came back; `sent` says whether
                                           the request may have reached the server (not a
                                           HailuoBatchError: the engine always handles it)

The CLI turns a `HailuoBatchError` into its `exit_code` in exactly one place; a run's own
outcome becomes a code in `RunSummary.exit_code`.
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

    exit_code = 2


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


class OutputFolderError(HailuoBatchError):
    """The output folder cannot be used; nothing was sent and nothing written."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(f"{path}: {reason}")


class KeyFormatError(HailuoBatchError):
    """An API key variable holds a control character (a newline inside, say): it cannot be
    sent as a header, and trimming would change the key. The key itself is never shown."""

    def __init__(self, variable: str) -> None:
        self.variable = variable
        super().__init__(
            f"{variable} contains a control character inside the key; set it to the key alone "
            "(surrounding spaces and newlines are trimmed)"
        )


class MissingKeyError(HailuoBatchError):
    """A provider must be asked about tasks (or videos) it holds, and its key is not set."""

    exit_code = 3

    def __init__(self, provider: str, variable: str, tasks: int, videos: int = 0) -> None:
        self.provider = provider
        self.variable = variable
        held = []
        if tasks:
            held.append(f"{tasks} task(s) in flight")
        if videos:
            held.append(f"{videos} paid video(s) to fetch again")
        super().__init__(
            f"{provider} holds {' and '.join(held)} for this folder, and {variable} is not "
            f"set: export {variable}=... so they can be followed there (nothing was sent)"
        )


class JournalError(HailuoBatchError):
    """A journal line that is not an event before the end: damage, not a torn tail."""


class DiskFullError(HailuoBatchError):
    """The output folder's disk is full: the run stopped with its state saved."""

    exit_code = 3

    def __init__(self, path: str, free_bytes: int | None) -> None:
        self.path = path
        self.free_bytes = free_bytes
        free = f"{free_bytes / 1e6:.1f} MB free" if free_bytes is not None else "no space"
        super().__init__(f"the disk of {path} is full ({free}); free some space first")


class OutputLockedError(HailuoBatchError):
    """Another run is using the output folder."""

    exit_code = 3

    def __init__(self, path: str, holder: str) -> None:
        self.path = path
        super().__init__(f"{path} is in use by another run ({holder}); wait for it or stop it")


class NotAnOutputFolderError(HailuoBatchError):
    """A folder given to `status`, `report` or `verify` has neither a journal nor a
    lockfile (or only a lockfile that is not one): no run has written to it."""

    def __init__(
        self, path: str, reason: str = "has no journal.jsonl or manifest.lock.json"
    ) -> None:
        self.path = path
        super().__init__(
            f"{path} {reason}: it is not an output folder of hailuo-batch "
            "(give the folder a manifest's `output:` or `--out` names, after a `run`)"
        )


class MissingPackageError(HailuoBatchError):
    """An optional output format whose package is not installed."""

    def __init__(self, what: str, package: str, extra: str) -> None:
        super().__init__(
            f"{what} needs {package}, which is not installed: "
            f"pip install 'hailuo-batch[{extra}]' (or pip install {package})"
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
