"""How far a large catch-up got, in the log: its archiving (:class:`Progress`, during one sync)
and then its handling, a line every few seconds until every text it found is decided and its reply
sent (or given up on).

Archiving is quick (thousands of texts a second); deciding and answering them takes longer, and
under RingCentral's limits answering thousands takes hours (40 texts a minute per extension). So
after a catch-up round that found at least :data:`FOLLOW_AT_LEAST` new texts, :class:`BacklogFollower`
reads, every :data:`PROGRESS_EVERY` seconds, how many of the texts message-sync archived since the
round began are handled (``done``, or parked ``failed``) and how many remain, and logs
"catch-up: 1,800 of 5,000 texts handled (360/s), 3,200 remaining (2,900 to decide, 300 replies to
send)"; once none remains, one summary line. It only reads the store (one grouped count).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Protocol

from rcinbox.clock import Clock

log = logging.getLogger("rcinbox.catchup")

FOLLOW_AT_LEAST = 100  # new texts in one round that make it worth following
PROGRESS_EVERY = 5.0  # seconds between two progress lines (archiving, then handling)
HANDLED = ("done", "failed")
TO_DECIDE = ("received", "archived")


class Progress:
    """How far one sync's archiving got: a line every :data:`PROGRESS_EVERY` seconds (on the
    clock) while it lasts, "catch-up: 2,400 of 5,000 archived (480/s), 2,600 remaining"."""

    def __init__(self, extension_id: str, total: int, clock: Clock) -> None:
        self.extension_id = extension_id
        self.total = total
        self.clock = clock
        self.done = 0
        self.started = self.last_line = clock.monotonic()

    def elapsed(self) -> float:
        return self.clock.monotonic() - self.started

    def rate(self) -> float:
        """Records archived per second so far (0 before the first)."""
        elapsed = self.elapsed()
        return self.done / elapsed if elapsed > 0 else 0.0

    def finish(self, sync_type: str, accepted: int) -> None:
        """The sync's summary line: how many of its inbound texts were new, in how long."""
        log.info(
            "ext %s: %s caught up %s new of %s inbound text(s) in %.1f s (%s/s)",
            self.extension_id,
            sync_type,
            f"{accepted:,}",
            f"{self.total:,}",
            self.elapsed(),
            f"{self.rate():,.0f}",
            extra={"action": "catchup.synced"},
        )

    def advance(self, count: int) -> None:
        self.done += count
        now = self.clock.monotonic()
        if now - self.last_line < PROGRESS_EVERY or self.done >= self.total:
            return  # the summary line reports the end
        self.last_line = now
        log.info(
            "catch-up: %s of %s archived (%s/s), %s remaining (ext %s)",
            f"{self.done:,}",
            f"{self.total:,}",
            f"{self.rate():,.0f}",
            f"{self.total - self.done:,}",
            self.extension_id,
            extra={"action": "catchup.progress"},
        )


class Backlog(Protocol):
    """The store's count of the messages from one source, by state (:class:`~rcinbox.store.Store`)."""

    async def intake_states(self, source: str, since: datetime) -> Mapping[str, int]: ...


class BacklogFollower:
    """Logs the handling of the texts a catch-up round archived since ``since``."""

    def __init__(self, backlog: Backlog, clock: Clock, since: datetime) -> None:
        self.backlog = backlog
        self.clock = clock
        self.since = since
        self.started = clock.monotonic()

    def __repr__(self) -> str:
        return f"BacklogFollower(since={self.since.isoformat()})"

    async def run(self, stop: asyncio.Event) -> None:
        """Every :data:`PROGRESS_EVERY` seconds a progress line, until nothing remains or ``stop``."""
        while not await self.clock.wait(stop, at_most=PROGRESS_EVERY):
            if await self.report():
                return

    async def report(self) -> bool:
        """One line; ``True`` (and the summary line) once every text is handled."""
        counts = await self.backlog.intake_states("sync", self.since)
        total = sum(counts.values())
        handled = sum(counts.get(state, 0) for state in HANDLED)
        to_decide = sum(counts.get(state, 0) for state in TO_DECIDE)
        elapsed = max(self.clock.monotonic() - self.started, 1e-9)
        rate = f"{handled / elapsed:,.0f}/s"
        if handled >= total:
            log.info(
                "catch-up: all %s texts handled in %.0f s (%s)",
                f"{total:,}",
                elapsed,
                rate,
                extra={"action": "catchup.handled"},
            )
            return True
        log.info(
            "catch-up: %s of %s texts handled (%s), %s remaining (%s to decide, %s replies to send)",
            f"{handled:,}",
            f"{total:,}",
            rate,
            f"{total - handled:,}",
            f"{to_decide:,}",
            f"{total - handled - to_decide:,}",
            extra={"action": "catchup.backlog"},
        )
        return False


class Following:
    """Starts a :class:`BacklogFollower` after a round that archived many texts, while the catch-up
    loop runs (:meth:`during`); one at a time (a follower already running counts the new ones)."""

    def __init__(self, backlog: Backlog | None, clock: Clock) -> None:
        self.backlog = backlog  # None: nothing is followed
        self.clock = clock
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def during(self, stop: asyncio.Event) -> AsyncIterator[None]:
        self._stop = stop
        try:
            yield
        finally:
            self._stop = None
            if self._task is not None:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)

    def round_archived(self, accepted: int, since: datetime) -> None:
        """A round that began at ``since`` archived ``accepted`` new texts."""
        if accepted < FOLLOW_AT_LEAST or self.backlog is None or self._stop is None:
            return
        if self._task is None or self._task.done():
            follower = BacklogFollower(self.backlog, self.clock, since)
            self._task = asyncio.create_task(follower.run(self._stop), name="rcinbox.catchup.backlog")
