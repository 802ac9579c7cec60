"""The dashboard's reads and its one write, as :class:`~rcinbox.store.Store` methods (a mixin: the
queries live in :mod:`~rcinbox.store.views`, :mod:`~rcinbox.store.search`,
:mod:`~rcinbox.store.status` and :mod:`~rcinbox.store.optouts`). Every page is one statement."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.clock import Clock
from rcinbox.store import optouts, search, status, views
from rcinbox.store.optouts import Lift, OptOut
from rcinbox.store.records import Page
from rcinbox.store.search import Results
from rcinbox.store.status import DayCounts
from rcinbox.store.views import Conversation, ThreadEntry

PAGE = 50


class DashboardReads:
    engine: AsyncEngine
    clock: Clock

    async def conversations(
        self, *, extension_id: str | None = None, page: int = 1, size: int = PAGE
    ) -> Page[Conversation]:
        """One row per counterpart, the latest text first (:func:`rcinbox.store.views.conversations`)."""
        return await views.conversations(self.engine, extension_id, page, size)

    async def thread(
        self, counterpart: str, *, extension_id: str | None = None, page: int = 1, size: int = PAGE
    ) -> Page[ThreadEntry]:
        """``counterpart``'s texts with decisions, replies and attachments; page 1 the newest."""
        return await views.thread(self.engine, counterpart, extension_id, page, size)

    async def search(
        self, query: str, *, extension_id: str | None = None, page: int = 1, size: int = PAGE
    ) -> Results:
        """The archive's texts matching ``query`` (a number in any format, a name, words), ranked."""
        return await search.search(self.engine, query, extension_id, page, size)

    async def day_counts(
        self, tz: tzinfo, *, extension_id: str | None = None, now: datetime | None = None
    ) -> DayCounts:
        """Today's counts (received, replied, suppressed per reason, opt-outs) in ``tz``."""
        return await status.today(self.engine, now or self.clock.now(), tz, extension_id)

    async def opt_outs(self, *, page: int = 1, size: int = PAGE) -> Page[OptOut]:
        """The numbers opted out now, the latest first: when, by which words."""
        return await optouts.current(self.engine, page, size)

    async def opt_out_lifts(
        self, number: str | None = None, *, page: int = 1, size: int = PAGE
    ) -> Page[Lift]:
        """The opt-outs the owner lifted (of ``number`` only, or everyone's), the latest first."""
        return await optouts.lifts(self.engine, number, page, size)

    async def lift_opt_out(self, number: str, *, by: str, reason: str) -> Lift:
        """Lift ``number``'s opt-out (recorded with who, when and why): replies are allowed again."""
        return await optouts.lift(self.engine, number, by, reason, self.clock.now())
