"""Shared bits of the background loops (pipeline worker, outbox sender): event-driven waiting,
:func:`run_rounds` and :func:`drain_due`, the loop both run, :class:`Changes`, the signal they raise
for observers, and :func:`round_failed`, what a loop does when a whole round failed (the store
itself: a full disk, a lost database).

Loops never sleep-poll: they wait until one of their events is set (new work, stop) or the
next scheduled retry is due, whichever comes first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from rcinbox.backoff import Backoff
from rcinbox.clock import SYSTEM, Clock
from rcinbox.errors import StoreFull

# After a failed round: 1 s, 2 s, 4 s … at most 30 s.
ROUND_RETRY = Backoff(base_delay=1.0, multiplier=2.0, max_delay=30.0, jitter=0.1)
# Replicas (a shared store): each loop also looks for due work at least this often, so work a
# replica that died (or stopped) had queued with only itself told is taken up by the others.
SWEEP = 5.0


async def wait_any(*events: asyncio.Event, at_most: float | None = None) -> bool:
    """Return as soon as any of ``events`` is set (``True``), or after ``at_most`` seconds (real
    time: for I/O; a loop's schedule waits on its :class:`~rcinbox.clock.Clock`)."""
    return await SYSTEM.wait(*events, at_most=at_most)


async def run_rounds(
    loop: str,
    log: logging.Logger,
    one_round: Callable[[], Awaitable[float | None]],
    wake: asyncio.Event,
    stop: asyncio.Event,
    clock: Clock,
    *,
    sweep: float | None = None,
) -> None:
    """Run ``one_round`` until ``stop`` is set. A round does the work that is due and returns the
    seconds until more is (``None``: nothing scheduled); then the loop waits on ``clock`` for that,
    ``wake`` or ``stop``, and at most ``sweep`` seconds when given (replicas: :data:`SWEEP`). A
    round that raised (the store itself) is logged and tried again with backoff."""
    failures = 0
    while not stop.is_set():
        wake.clear()
        try:
            at_most = await one_round()
            failures = 0
            if sweep is not None:
                at_most = sweep if at_most is None else min(at_most, sweep)
        except Exception as exc:  # the store itself failed: keep the loop alive, try again soon
            failures += 1
            at_most = round_failed(log, loop, exc, failures)
        await clock.wait(wake, stop, at_most=at_most)


async def drain_due(
    due: Callable[[], Awaitable[Iterable[int]]],
    handle: Callable[[int], Awaitable[None]],
    stop: asyncio.Event | None = None,
) -> int:
    """Handle every item ``due()`` lists (a batch at a time), each at most once, until none is left
    or ``stop`` is set; returns how many were handled."""
    seen: set[int] = set()
    while stop is None or not stop.is_set():
        batch = [key for key in await due() if key not in seen]
        if not batch:
            break
        for key in batch:
            if stop is not None and stop.is_set():
                break
            seen.add(key)
            await handle(key)
    return len(seen)


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
