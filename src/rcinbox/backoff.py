"""Exponential backoff with jitter: the one formula every retry in rcinbox waits by (platform
requests, the WebSocket's reconnects, the WebHook subscription's repairs, the loops' rounds)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """After the n-th failure in a row wait ``delay(n)`` seconds: ``base_delay * multiplier**(n-1)``,
    at most ``max_delay``, spread by ±``jitter`` (a fraction) so a fleet does not retry in step."""

    base_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 30.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError(f"need 0 <= base_delay <= max_delay: {self}")
        if self.multiplier < 1:
            raise ValueError(f"multiplier must be at least 1: {self}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be between 0 and 1: {self}")

    def delay(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after ``failures`` failures in a row (1-based; 0 counts as 1)."""
        raw = min(self.max_delay, self.base_delay * self.multiplier ** max(failures - 1, 0))
        return raw * (1 - self.jitter + 2 * self.jitter * rand())
