"""Shared bits of the background loops (pipeline worker, outbox sender): event-driven waiting,
:class:`Changes`, the signal they raise for observers, and :func:`round_failed`, what a loop does
when a whole round failed (the store itself: a full disk, a lost database).

Loops never sleep-poll: they wait until one of their events is set (new work, stop) or the
next scheduled retry is due, whichever comes first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from rcinbox.clock import SYSTEM
from rcinbox.errors import StoreFull
from rcinbox.platform.retry import RetryPolicy

# After a failed round: 1 s, 2 s, 4 s … at most 30 s (only ``delay()`` is used).
ROUND_RETRY = RetryPolicy(attempts=1, base_delay=1.0, multiplier=2.0, max_delay=30.0, jitter=0.1)


async def wait_any(*events: asyncio.Event, at_most: float | None = None) -> None:
    """Return as soon as any of ``events`` is set, or after ``at_most`` seconds (real time: for
    I/O; a loop's schedule waits on its :class:`~rcinbox.clock.Clock`)."""
    await SYSTEM.wait(*events, at_most=at_most)


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


def round_failed(log: logging.Logger, loop: str, exc: Exception, failures: int) -> float:
    """Log the ``failures``-th failed round in a row of ``loop`` and return the seconds to wait
    before the next one. A full disk is one line (it is the disk, not a bug: the round is simply
    tried again until there is room); anything else comes with its traceback."""
    delay = ROUND_RETRY.delay(failures)
    if isinstance(exc, StoreFull):
        log.error(
            "%s: %s; free some space, retrying in %.0f s", loop, exc, delay, extra={"action": "store.full"}
        )
    else:
        log.exception("%s error; retrying in %.0f s", loop, delay, extra={"action": f"{loop}.error"})
    return delay
