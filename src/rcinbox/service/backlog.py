"""How far the handling of a large catch-up got: a line in the log every few seconds until every
text it found is decided and its reply sent (or given up on).

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
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from rcinbox.clock import Clock

log = logging.getLogger("rcinbox.catchup")

FOLLOW_AT_LEAST = 100  # new texts in one round that make it worth following
PROGRESS_EVERY = 5.0  # seconds between two progress lines
HANDLED = ("done", "failed")
TO_DECIDE = ("received", "archived")


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
