"""The one clock of the service: every read of the time and every timed wait goes through it.

:meth:`rcinbox.service.app.Service.open` takes one :class:`Clock` (``Tuning.clock``) and hands it
to the store, the platform session (token expiry, the scheduled refresh), the pacer (its windows,
waits and backoffs), the contact and number caches, the pipeline and outbox (due times), the
catch-up timer and the transports (their status timestamps). Production uses :data:`SYSTEM`.

:class:`FakeClock` is the same seam for tests: it stands still until :meth:`FakeClock.advance`
moves it, and the move wakes every task sleeping on it whose time has come (the token refresh,
a paced request, a retry), so a test proves an hour-long behaviour without waiting an hour.
Timeouts that guard I/O (a handshake, an HTTP request) stay on the event loop's real time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any


class Clock:
    """The system clock: wall time, a monotonic count for durations, and timed waits."""

    def now(self) -> datetime:
        """Now, an aware UTC datetime."""
        return datetime.now(UTC)

    def time(self) -> float:
        """Now in seconds since the epoch (token expiry times, as the token file stores them)."""
        return time.time()

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (durations, windows, cache ages)."""
        return time.monotonic()

    def sleep(self, seconds: float) -> Awaitable[None]:
        """Sleep ``seconds``, counted from this call (not from the first await)."""
        return asyncio.sleep(seconds)

    async def wait(self, *events: asyncio.Event, at_most: float | None = None) -> bool:
        """Return as soon as any of ``events`` is set (``True``) or after ``at_most`` seconds
        (``False``, unless one was set meanwhile); ``None`` waits for an event only."""
        if any(event.is_set() for event in events):
            return True
        waiters: list[asyncio.Task[Any]] = [
            asyncio.create_task(event.wait(), name="rcinbox.clock.event") for event in events
        ]
        if at_most is not None:
            waiters.append(asyncio.ensure_future(self.sleep(max(at_most, 0.0))))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        return any(event.is_set() for event in events)


SYSTEM = Clock()


class FakeClock(Clock):
    """A clock that moves only when told (tests): :meth:`advance` wakes the sleepers now due."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime.now(UTC)
        self._elapsed = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._dozing: list[asyncio.Event] = []  # :meth:`until_asleep` callers, told of each sleeper

    def __repr__(self) -> str:
        return f"FakeClock({self.now().isoformat()}, {len(self._sleepers)} sleeping)"

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def time(self) -> float:
        return self.now().timestamp()

    def monotonic(self) -> float:
        return self._elapsed

    def sleep(self, seconds: float) -> Awaitable[None]:
        if seconds <= 0:
            return asyncio.sleep(0)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._elapsed + seconds, next(self._order), future))
        for dozing in self._dozing:
            dozing.set()
        return future

    @property
    def sleeping(self) -> int:
        """How many tasks sleep on this clock now (a test can wait for the loop to go to sleep)."""
        return sum(1 for _, _, future in self._sleepers if not future.done())

    async def until_asleep(self, count: int = 1, within: float = 10.0) -> None:
        """Wait (real time, at most ``within`` s) until ``count`` tasks sleep on this clock: a
        loop went to wait for its next scheduled wake-up."""
        async with asyncio.timeout(within):
            while self.sleeping < count:
                dozing = asyncio.Event()
                self._dozing.append(dozing)
                try:
                    await dozing.wait()
                finally:
                    self._dozing.remove(dozing)

    def next_wake(self) -> float | None:
        """Seconds from now until the earliest sleeper is due (``None``: nobody sleeps), so a
        test can move the clock from one scheduled wake-up to the next."""
        due = [when for when, _, future in self._sleepers if not future.done()]
        return max(min(due) - self._elapsed, 0.0) if due else None

    def advance(self, by: float | timedelta) -> None:
        """Move the clock forward and wake every sleeper whose time has come."""
        seconds = by.total_seconds() if isinstance(by, timedelta) else by
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self._elapsed += seconds
        while self._sleepers and self._sleepers[0][0] <= self._elapsed:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():  # a sleeper cancelled meanwhile is skipped
                future.set_result(None)
