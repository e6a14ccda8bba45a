"""The spending cap: money reserved before a submit, settled or released after. No I/O.

Amounts are USD. `spent` starts from what the output folder already spent in earlier
runs, so a resumed run counts it. A submit may go out only if everything spent, plus
everything reserved by submits in flight, plus its own price fits under the limit.
"""

from __future__ import annotations


class Budget:
    """A hard cap (or none). Reservations make concurrent submits safe against overshoot."""

    __slots__ = ("limit", "reserved", "spent")

    def __init__(self, limit: float | None, spent: float = 0.0) -> None:
        if limit is not None and limit < 0:
            raise ValueError(f"a budget cannot be negative (got {limit})")
        self.limit = limit
        self.spent = spent
        self.reserved = 0.0

    def reserve(self, price: float) -> bool:
        """Hold `price` for a submit about to go out; False if it would break the cap."""
        if self.limit is not None and self.spent + self.reserved + price > self.limit + 1e-9:
            return False
        self.reserved += price
        return True

    def settle(self, price: float) -> None:
        """The submit was (or may have been) paid for."""
        self.reserved = max(self.reserved - price, 0.0)
        self.spent += price

    def release(self, price: float) -> None:
        """The submit was clearly refused: nothing was paid."""
        self.reserved = max(self.reserved - price, 0.0)

    @property
    def left(self) -> float | None:
        return None if self.limit is None else max(self.limit - self.spent - self.reserved, 0.0)

    def __repr__(self) -> str:
        return f"Budget(limit={self.limit}, spent={self.spent:.2f}, reserved={self.reserved:.2f})"
