"""MiniMax's numeric error codes and what each means, for its v1 and V2 wires alike. No I/O.

v1 carries the code in `base_resp.status_code`, V2 at the end of an error's message
("... (2013)") and as a string in a failed task's `error.code`; the meanings are the same
(docs/providers/minimax.md sections 5 and 12).
"""

from __future__ import annotations

from hailuo_batch.core.jobs import ErrorKind, FailureKind

KIND_BY_CODE: dict[int, ErrorKind] = {
    1000: "transient",  # unknown error, "retry later"
    1001: "transient",  # request timeout
    1013: "transient",  # internal service error
    1024: "transient",  # internal error
    1033: "transient",  # system / downstream error
    1002: "rate_limited",  # RPM
    1039: "rate_limited",  # TPM
    1004: "auth",  # not authorized / token mismatch
    2049: "auth",  # invalid API key
    2038: "auth",  # real-name verification required: the account must be fixed
    2061: "auth",  # model not on this Token Plan key: it needs a pay-as-you-go key (M)
    1008: "quota",  # insufficient balance
    1028: "quota",  # Token Plan quota exhausted (M, MiniMax-AI/cli)
    1030: "quota",  # ditto
    1026: "content_policy",  # input sensitive
    1027: "content_policy",  # generated video sensitive
    2013: "invalid_input",  # invalid parameters
}


def failure_for(code: int | None) -> FailureKind:
    """What a code means for a task that already ended failed (nothing left to retry)."""
    kind = KIND_BY_CODE.get(code) if code is not None else None
    if kind is None or kind == "rate_limited" or kind == "transient":
        return "provider_error"
    return kind
