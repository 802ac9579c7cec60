"""Per-user, per-group request rate limits, as RingCentral enforces them (PLATFORM.md §7.1).

Every throttled request is counted per ``(key, group)`` over a sliding window (default 60 s):
Light 50, Medium 40, Heavy 10, Auth 5 requests per window. Going over answers 429 with
``Retry-After`` and a CMN-301 body and starts a penalty (default 60 s); any request for that
key and group during the penalty is refused too and *restarts* the penalty (the "429 trap").
Every answer carries ``X-Rate-Limit-Group`` (lower-case), ``-Limit``, ``-Remaining`` and
``-Window``. Time comes from the world clock it is given, so tests can drive a fake one.
Counters idle for a whole window (and out of penalty) are dropped, at most once per window, so
they never pile up.

The numbers are a :class:`RateConfig`, changed at runtime with :meth:`RateLimiter.configure`
(the faults control API does) and restored by :meth:`RateLimiter.reset`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rcinbox.emulator.wire import ApiError

if TYPE_CHECKING:
    from rcinbox.emulator.routing import Group
    from rcinbox.emulator.world import Clock

log = logging.getLogger("rcinbox.emulator")

GROUPS: tuple[Group, ...] = ("Light", "Medium", "Heavy", "Auth")


@dataclass(frozen=True)
class RateConfig:
    """Rate-limit numbers; defaults are RingCentral's documented per-user defaults."""

    enabled: bool = True
    light: int = 50
    medium: int = 40
    heavy: int = 10
    auth: int = 5
    window: float = 60.0
    penalty: float = 60.0

    def limit(self, group: Group) -> int:
        limit: int = getattr(self, group.lower())
        return limit

    def with_limit(self, group: Group, value: int) -> RateConfig:
        if group == "Light":
            return dataclasses.replace(self, light=value)
        if group == "Medium":
            return dataclasses.replace(self, medium=value)
        if group == "Heavy":
            return dataclasses.replace(self, heavy=value)
        return dataclasses.replace(self, auth=value)

    def describe(self) -> dict[str, Any]:
        """The camelCase form the control API shows."""
        body: dict[str, Any] = {"enabled": self.enabled}
        body.update({group: self.limit(group) for group in GROUPS})
        body.update(window=_number(self.window), penalty=_number(self.penalty))
        return body


@dataclass
class _Bucket:
    hits: deque[float] = field(default_factory=deque)
    penalty_until: float = 0.0


class RateLimiter:
    """Counts requests per (user+app key, group); :meth:`hit` raises 429 or returns the headers."""

    def __init__(self, clock: Clock, config: RateConfig | None = None) -> None:
        self.clock = clock
        self.config = self.baseline = config or RateConfig()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._pruned_at = clock()

    def configure(
        self,
        *,
        enabled: bool | None = None,
        limits: dict[Group, int] | None = None,
        window: float | None = None,
        penalty: float | None = None,
    ) -> RateConfig:
        config = self.config
        if enabled is not None:
            config = dataclasses.replace(config, enabled=enabled)
        for group, value in (limits or {}).items():
            config = config.with_limit(group, value)
        if window is not None:
            config = dataclasses.replace(config, window=window)
        if penalty is not None:
            config = dataclasses.replace(config, penalty=penalty)
        self.config = config
        log.info("rate limits now %s", config.describe())
        return config

    def set_baseline(self, **changes: Any) -> RateConfig:
        """Change the numbers :meth:`reset` returns to (``rcinbox emulator --no-rate-limits``)."""
        self.baseline = self.configure(**changes)
        return self.baseline

    def reset(self) -> RateConfig:
        """The start-up numbers, all counters and penalties forgotten."""
        self.config = self.baseline
        self._buckets.clear()
        return self.config

    def hit(self, key: str, group: Group) -> dict[str, str]:
        """Count one request; the ``X-Rate-Limit-*`` headers for its answer, or 429 as :class:`ApiError`."""
        config = self.config
        if not config.enabled or group not in GROUPS:
            return {}
        now = self.clock()
        if now - self._pruned_at >= config.window:
            self._prune(now, config.window)
        bucket = self._buckets.setdefault((key, group), _Bucket())
        limit = config.limit(group)
        if bucket.penalty_until > now or self._over(bucket, now, config.window, limit):
            bucket.penalty_until = now + config.penalty  # every throttled request restarts the penalty
            bucket.hits.clear()
            log.info("rate limit: %s over %s limit %d, penalty %.0f s", key, group, limit, config.penalty)
            raise ApiError(
                429,
                "CMN-301",
                "Request rate exceeded",
                headers={"Retry-After": str(math.ceil(config.penalty)), **_headers(config, group, 0)},
            )
        bucket.hits.append(now)
        return _headers(config, group, limit - len(bucket.hits))

    @property
    def tracked(self) -> int:
        """How many (key, group) counters are kept."""
        return len(self._buckets)

    def _prune(self, now: float, window: float) -> None:
        """Forget counters with no hit inside the window and no running penalty."""
        self._pruned_at = now
        for slot, bucket in list(self._buckets.items()):
            if bucket.penalty_until <= now and (not bucket.hits or bucket.hits[-1] <= now - window):
                del self._buckets[slot]

    @staticmethod
    def _over(bucket: _Bucket, now: float, window: float, limit: int) -> bool:
        while bucket.hits and bucket.hits[0] <= now - window:
            bucket.hits.popleft()
        return len(bucket.hits) >= limit


def _headers(config: RateConfig, group: Group, remaining: int) -> dict[str, str]:
    return {
        "X-Rate-Limit-Group": group.lower(),
        "X-Rate-Limit-Limit": str(config.limit(group)),
        "X-Rate-Limit-Remaining": str(max(remaining, 0)),
        "X-Rate-Limit-Window": str(_number(config.window)),
    }


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
