"""Shared bits of the background loops (pipeline worker, outbox sender): event-driven waiting.

Loops never sleep-poll: they wait until one of their events is set (new work, stop) or the
next scheduled retry is due, whichever comes first.
"""

from __future__ import annotations

import asyncio
from datetime import datetime


async def wait_any(*events: asyncio.Event, at_most: float | None = None) -> None:
    """Return as soon as any of ``events`` is set, or after ``at_most`` seconds."""
    if any(event.is_set() for event in events):
        return
    waiters = [asyncio.create_task(event.wait(), name="wait_any") for event in events]
    try:
        await asyncio.wait(waiters, timeout=at_most, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


def seconds_until(when: datetime | None, now: datetime) -> float | None:
    """Seconds from ``now`` to ``when`` (at least 0); ``None`` when nothing is scheduled."""
    if when is None:
        return None
    return max(0.0, (when - now).total_seconds())
