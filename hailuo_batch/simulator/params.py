"""Reading submit parameters the way the services do: typed fields, enums, length limits. No I/O.

Each provider module composes these readers into its own check and words the resulting
`InvalidParams` in its own envelope (AIMLAPI zod-style, MiniMax `invalid params, ...`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeVar

Problem = Literal["required", "type", "enum", "too_long", "too_short", "rule", "unknown"]
MAX_PROMPT = 2000
T = TypeVar("T", int, str)


class InvalidParams(ValueError):
    """A parameter the service refuses: which field, what kind of problem, what was sent."""

    def __init__(
        self,
        field: str,
        problem: Problem,
        reason: str,
        *,
        expected: tuple[object, ...] = (),
        received: object = None,
    ) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.problem = problem
        self.reason = reason
        self.expected = expected
        self.received = received


def text(
    body: Mapping[str, object], field: str, *, required: bool, limit: int = MAX_PROMPT
) -> str | None:
    """A prompt-like string: 1..`limit` characters when present (H3 takes 7000)."""
    value = body.get(field)
    if value is None:
        if required:
            raise InvalidParams(field, "required", "is required")
        return None
    if not isinstance(value, str):
        raise InvalidParams(field, "type", "must be a string", expected=("string",), received=value)
    if not value.strip():
        raise InvalidParams(field, "too_short", "must not be empty", received=value)
    if len(value) > limit:
        raise InvalidParams(
            field,
            "too_long",
            f"must be at most {limit} characters (got {len(value)})",
            expected=(limit,),
        )
    return value


def choice(body: Mapping[str, object], field: str, allowed: tuple[T, ...], default: T) -> T:
    """An enum field; the type must match too (the string "6" is not the duration 6)."""
    value = body.get(field)
    if value is None:
        return default
    for option in allowed:
        if type(value) is type(option) and value == option:
            return option
    listed = ", ".join(str(option) for option in allowed)
    raise InvalidParams(
        field, "enum", f"must be one of {listed} (got {value!r})", expected=allowed, received=value
    )


def flag(body: Mapping[str, object], field: str) -> bool | None:
    value = body.get(field)
    if value is not None and not isinstance(value, bool):
        raise InvalidParams(
            field, "type", "must be a boolean", expected=("boolean",), received=value
        )
    return value


def rule(field: str, reason: str) -> InvalidParams:
    """A cross-field constraint, e.g. 1080P only at 6 s."""
    return InvalidParams(field, "rule", reason)
