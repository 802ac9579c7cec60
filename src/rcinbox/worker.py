"""Shared bits of the background loops (pipeline worker, outbox sender): event-driven waiting,
and :class:`Changes`, the signal they raise for observers.

Loops never sleep-poll: they wait until one of their events is set (new work, stop) or the
next scheduled retry is due, whichever comes first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
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


class Changes:
    """A broadcast "something changed" signal, so observers (tests, the demo, a dashboard) wait on
    an event instead of polling the store: the worker calls :meth:`notify` after each step."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.count = 0

    def notify(self) -> None:
        self.count += 1
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def until(self, condition: Callable[[], Awaitable[bool]], within: float) -> None:
        """Return once ``condition()`` is true, re-checking after every change; ``TimeoutError``
        after ``within`` seconds."""
        async with asyncio.timeout(within):
            while True:
                event = self._event  # taken before the check: a change during it is not missed
                if await condition():
                    return
                await event.wait()
