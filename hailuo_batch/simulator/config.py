"""`SimConfig`, everything that shapes one simulator run, and its closed vocabularies. No I/O.

Times are in seconds (floats) throughout the simulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

ProviderName = Literal["novita", "highway", "gmi", "aimlapi", "minimax", "fal", "replicate"]
PROVIDER_NAMES: tuple[ProviderName, ...] = get_args(ProviderName)

FaultKind = Literal["rate-limit", "server-error", "slow", "drop", "bad-json", "lost-reply"]
"""What the fault middleware can do to a request; `lost-reply` hits submits only: the task
is created, then the connection is closed before the answer leaves."""
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
DEFAULT_FAULTS: tuple[FaultKind, ...] = ("rate-limit", "server-error", "slow", "drop", "bad-json")

Outage = Literal["balance", "auth", "down"]
"""How a provider refuses every submit: out of balance, key rejected, or service down (503)."""
OUTAGES: tuple[Outage, ...] = get_args(Outage)


@dataclass(frozen=True, slots=True)
class SimConfig:
    """How the simulated providers behave.

    `valid_keys`: None accepts any non-empty key (Bearer, or fal's `Key`); otherwise a
    provider listed there accepts only its key (providers not listed accept any non-empty
    key).
    `deliver_duration` / `deliver_size` replace what is actually encoded, so a client's
    check that the downloaded video matches the request can be shown to work.
    `state_file`: a path where every accepted task is kept (JSON lines), so a simulator
    started later with the same file still answers for them, as a real provider would;
    first-frame images are kept beside it (`first-frames/`), so their videos look the same.
    `jitter`: each generation takes `gen_seconds` times 1 +- jitter (uniform).
    `submit_latency`: (low, high) seconds a submit takes to answer, drawn uniformly, as
    real APIs take 0.5-2 s; the task is created at the end of it.
    `draw_prompts`: write each task's prompt on its video too (costs one encode per
    prompt, where otherwise tasks of one size, length and first frame share one: meant
    for small runs, whose gallery then tells the clips apart).
    """

    gen_seconds: float = 3.0
    jitter: float = 0.1
    max_concurrent: int = 4
    submit_latency: tuple[float, float] = (0.0, 0.0)
    fault_rate: float = 0.0
    faults: tuple[FaultKind, ...] = DEFAULT_FAULTS
    slow_seconds: float = 2.0
    retry_after: int = 1
    task_failure_rate: float = 0.0
    url_ttl: float = 3600.0
    seed: int | None = None
    outages: Mapping[str, Outage] = field(default_factory=dict)
    valid_keys: Mapping[str, str] | None = None
    deliver_duration: float | None = None
    deliver_size: tuple[int, int] | None = None
    state_file: str | None = None
    draw_prompts: bool = False

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise ValueError("invalid simulator config: " + "; ".join(problems))

    def _problems(self) -> list[str]:
        found = []
        if self.gen_seconds < 0:
            found.append(f"gen_seconds must be >= 0 (got {self.gen_seconds})")
        if not 0.0 <= self.jitter < 1.0:
            found.append(f"jitter must be within 0..1 (got {self.jitter})")
        low, high = self.submit_latency
        if not 0.0 <= low <= high:
            found.append(f"submit_latency must be 0 <= low <= high (got {low}, {high})")
        if self.max_concurrent < 1:
            found.append(f"max_concurrent must be >= 1 (got {self.max_concurrent})")
        for name in ("fault_rate", "task_failure_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                found.append(f"{name} must be within 0..1 (got {value})")
        unknown = [kind for kind in self.faults if kind not in FAULT_KINDS]
        if unknown:
            found.append(f"unknown fault kinds {unknown}; known: {', '.join(FAULT_KINDS)}")
        if self.fault_rate > 0 and not self.faults:
            found.append("fault_rate > 0 needs at least one fault kind")
        if self.slow_seconds < 0 or self.retry_after < 0:
            found.append("slow_seconds and retry_after must be >= 0")
        if self.url_ttl <= 0:
            found.append(f"url_ttl must be > 0 (got {self.url_ttl})")
        for provider, outage in self.outages.items():
            if provider not in PROVIDER_NAMES or outage not in OUTAGES:
                found.append(
                    f"outage {provider}={outage}: providers are {', '.join(PROVIDER_NAMES)}, "
                    f"outages {', '.join(OUTAGES)}"
                )
        if self.deliver_duration is not None and self.deliver_duration <= 0:
            found.append("deliver_duration must be > 0")
        if self.deliver_size is not None and min(self.deliver_size) < 2:
            found.append("deliver_size must be at least 2x2")
        if self.state_file == "":
            found.append("state_file must be a path (or None)")
        return found
