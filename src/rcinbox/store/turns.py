"""One writer at a time, and the intake first: the writing turn of an SQLite store.

SQLite has one writer at a time. Writers that race for its lock meet its busy handler, which
sleeps and tries again (up to tens of milliseconds a try): that was the long tail of a write. So
the process's writers take turns here instead, before they check out a connection, and SQLite's
lock is always free when a transaction begins. The turn is first come, first served, except that
an ``urgent`` writer (the intake: a transport is waiting to acknowledge its notifications) goes
before every writer that is not.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriterTurn:
    """A first-come, first-served lock with a fast lane for urgent writers (one event loop's)."""

    def __init__(self) -> None:
        self.busy = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._others: deque[asyncio.Future[None]] = deque()

    def __repr__(self) -> str:
        return f"WriterTurn(busy={self.busy}, waiting={len(self._urgent)}+{len(self._others)})"

    @asynccontextmanager
    async def held(self, *, urgent: bool = False) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if not self.busy:
            self.busy = True
            return
        waiting: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._others
        queue.append(waiting)
        try:
            await waiting
        except asyncio.CancelledError:
            if waiting.done() and not waiting.cancelled():  # handed the turn, then cancelled: pass it on
                self._release()
            elif waiting in queue:
                queue.remove(waiting)
            raise

    def _release(self) -> None:
        for queue in (self._urgent, self._others):
            while queue:
                waiting = queue.popleft()
                if not waiting.done():
                    waiting.set_result(None)  # handed over: still busy
                    return
        self.busy = False
