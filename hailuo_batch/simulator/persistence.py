"""The task file: every accepted task as one JSON line, so a restarted simulator knows it. File I/O.

A real provider remembers its tasks across a client's restarts; with `SimConfig.state_file`
set, so does the simulator. The file is append-only JSON lines:

    {"format": "hailuo-batch-simulator-tasks", "version": 1, "secret": "<hex>"}
    {"provider": "novita", "id": "...", "model": "...", "prompt": "...", "echo": {...},
     "width": 1366, "height": 768, "duration": 6, "audio": false, "created": <unix s>,
     "starts": <unix s>, "ends": <unix s>, "fails": false, "file_id": "", "digest": "<sha256>",
     "image": "<sha256>" | null}
    {"provider": "novita", "asked": "<task id>"}

The header holds the link-signing secret, so links minted by an earlier instance still open.
Each task line is written the moment its task is accepted and the file closed at once, so a
killed process loses nothing (a power cut may: there is no fsync). Times are Unix seconds,
converted from and to the clock of the instance writing or reading them (`epoch0` is the
Unix time of that clock's zero); `digest` is the ledger's digest of the submit, so a later
resubmission of the same body is still recognised. An `asked` line is written the first
time the client polls, retrieves or downloads a task, so a later instance still knows it
was used (see `ledger`, `duplicate_submits`). Image bytes are never kept here: an echoed
data-URI field is left out; `image` names the first frame, kept once per image as a PNG
beside this file (see `firstframes`; a line without it is drawn as the test card). A torn
last line (the process died mid-write) is cut off when the file is opened. Lines are only
ever added to this format: files written before a kind of line existed still load.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from hailuo_batch.errors import HailuoBatchError
from hailuo_batch.simulator.tasks import Task
from hailuo_batch.simulator.video import VideoSpec

FORMAT = "hailuo-batch-simulator-tasks"
VERSION = 1


class TaskFileError(HailuoBatchError, ValueError):
    """A task file this simulator cannot read (not one of ours, or damaged before its end).

    One of ours, so `run --simulate` reports it as bad input (exit 2), not a traceback."""


@dataclass(frozen=True, slots=True)
class SavedTask:
    """A task read back from the file (times on this instance's clock) and its submit digest."""

    task: Task
    digest: str


class TaskFile:
    """One state file: its link secret, the tasks it held when opened, and appends to it."""

    __slots__ = ("_asked", "_epoch0", "_saved", "path", "secret")

    def __init__(
        self,
        path: Path,
        secret: bytes,
        epoch0: float,
        saved: Mapping[str, list[SavedTask]],
        asked: Mapping[str, set[str]] | None = None,
    ) -> None:
        self.path = path
        self.secret = secret
        self._epoch0 = epoch0
        self._saved = saved
        self._asked = asked or {}

    def __repr__(self) -> str:
        count = sum(len(tasks) for tasks in self._saved.values())
        return f"<TaskFile {str(self.path)!r} restored={count}>"

    @classmethod
    def open(cls, path: Path, epoch0: float) -> TaskFile:
        """Read `path` (creating it, with a fresh secret, if missing or empty)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = _complete_lines(path)
        if not lines:
            secret = os.urandom(32)
            header = {"format": FORMAT, "version": VERSION, "secret": secret.hex()}
            _append(path, header)
            return cls(path, secret, epoch0, {})
        secret = _header_secret(path, lines[0])
        saved: dict[str, list[SavedTask]] = {}
        asked: dict[str, set[str]] = {}
        for number, line in enumerate(lines[1:], start=2):
            provider, record = _decode(path, number, line, epoch0)
            if isinstance(record, SavedTask):
                saved.setdefault(provider, []).append(record)
            else:
                asked.setdefault(provider, set()).add(record)
        return cls(path, secret, epoch0, saved, asked)

    def restored(self, provider: str) -> list[SavedTask]:
        """The provider's tasks as the file held them when opened, oldest first."""
        return list(self._saved.get(provider, ()))

    def asked(self, provider: str) -> set[str]:
        """Ids of the provider's tasks the client had asked about when the file was opened."""
        return set(self._asked.get(provider, ()))

    def append(self, provider: str, task: Task, digest: str) -> None:
        """Write one accepted task at once (a line per task; nothing is buffered)."""
        data = {
            "provider": provider,
            "id": task.id,
            "model": task.model,
            "prompt": task.prompt,
            "echo": {
                key: value
                for key, value in task.echo.items()
                if not (isinstance(value, str) and value.startswith("data:"))
            },
            "width": task.spec.width,
            "height": task.spec.height,
            "duration": task.spec.duration,
            "audio": task.spec.audio,
            "created": self._epoch0 + task.created,
            "starts": self._epoch0 + task.starts,
            "ends": self._epoch0 + task.ends,
            "fails": task.fails,
            "file_id": task.file_id,
            "digest": digest,
            "image": task.image,
        }
        _append(self.path, data)

    def append_asked(self, provider: str, task_id: str) -> None:
        """Write that the client asked about a task (once per task: the ledger knows)."""
        _append(self.path, {"provider": provider, "asked": task_id})


def _append(path: Path, data: Mapping[str, object]) -> None:
    with path.open("ab") as handle:
        handle.write(orjson.dumps(data) + b"\n")


def _complete_lines(path: Path) -> list[bytes]:
    """The file's whole lines; a partial last line is cut off so the next append starts clean."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    end = data.rfind(b"\n") + 1
    if end < len(data):
        with path.open("rb+") as handle:
            handle.truncate(end)
    return [line for line in data[:end].split(b"\n") if line]


def _header_secret(path: Path, line: bytes) -> bytes:
    try:
        header = orjson.loads(line)
        ours = header["format"] == FORMAT and header["version"] == VERSION
        secret = bytes.fromhex(header["secret"]) if ours else None
    except (KeyError, TypeError, ValueError):  # orjson.JSONDecodeError is a ValueError
        secret = None
    if secret is None:
        raise TaskFileError(
            f"{path}:1: not a simulator task file (no {FORMAT!r} v{VERSION} header); "
            "delete it or choose another state file"
        )
    return secret


def _decode(path: Path, number: int, line: bytes, epoch0: float) -> tuple[str, SavedTask | str]:
    """One line after the header: a task, or the id of a task the client asked about."""
    try:
        record: dict[str, Any] = orjson.loads(line)
        if "asked" in record:
            return _text(record["provider"]), _text(record["asked"])
        spec = VideoSpec(
            _integer(record["width"]),
            _integer(record["height"]),
            _number(record["duration"]),
            record.get("audio") is True,  # absent in files written before sound
        )
        task = Task(
            id=_text(record["id"]),
            model=_text(record["model"]),
            prompt=_text(record["prompt"]),
            echo=dict(record["echo"]),
            spec=spec,
            created=_number(record["created"]) - epoch0,
            starts=_number(record["starts"]) - epoch0,
            ends=_number(record["ends"]) - epoch0,
            fails=record["fails"] is True,
            file_id=_text(record["file_id"]),
            image=_optional_text(record.get("image")),
        )
        return _text(record["provider"]), SavedTask(task, _text(record["digest"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise TaskFileError(
            f"{path}:{number}: unreadable task record ({exc}); delete the file to start afresh"
        ) from exc


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _integer(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _number(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(f"expected a number, got {value!r}")
    return value
