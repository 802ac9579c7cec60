"""Replicas on one database split RingCentral's rate limits: every :attr:`every` seconds this
replica says it is alive (:mod:`rcinbox.store.members`) and counts the live ones, and each of its
clients' pacers fills 1/N of every budget (:meth:`rcinbox.platform.Pacer.share_with`). A replica
that stops removes its row at once (after its sends in flight ended); one that dies drops out
after :attr:`within` seconds, and the others' parts grow back. The replies a gone replica had
claimed are then due again at once (the outbox reconciles each with the platform's message store
before sending it: none goes twice), and :attr:`orphans` wakes this replica's outbox; the
attachment downloads it had claimed are due again too (:attr:`orphan_downloads` wakes this
replica's download worker). Only when
the store is shared (PostgreSQL); alone, the whole budget.

A replica that was only frozen (SIGSTOP, a paused VM, a swap storm) wakes up believing its claims
still stand. :meth:`Membership.fence` is the outbox's last check before a reply is written to the
platform (after the pacer's wait): while this replica's last successful heartbeat *started* less
than ``within - skew`` seconds ago (the monotonic clock, and the wall clock: whichever says older),
no other replica can have ended its claims, and the check costs nothing; older, it writes a
heartbeat and asks the database whether the claim is still its own, and if not the send is
abandoned (:class:`~rcinbox.errors.ClaimLost`). The others judge a heartbeat's age by their own
wall clock: ``skew`` (5 s) is the most the replicas' clocks may differ (NTP keeps them within
milliseconds). What stays open: a freeze between this check and the request's first byte
(microseconds; milliseconds when a new connection is opened first), and an ending of the claim
whose statement began before this replica's new heartbeat was committed but reached the row after
the check (the same milliseconds); RingCentral's SMS API has no idempotency key to close those.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rcinbox.errors import ClaimLost, StoreError
from rcinbox.platform import Pacer
from rcinbox.platform.retry import Fence
from rcinbox.store import Store
from rcinbox.waiting import Changes

log = logging.getLogger("rcinbox.service")


@dataclass
class Membership:
    store: Store
    pacers: Sequence[Pacer]
    every: float = 5.0  # seconds between heartbeats
    within: float = 15.0  # a heartbeat older than this: that replica is gone
    skew: float = 5.0  # the most the replicas' wall clocks may differ (the fence's margin)
    replica: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    about: str = field(default_factory=lambda: f"{socket.gethostname()} pid {os.getpid()}")
    live: int = 1  # replicas counted at the last heartbeat, this one included
    changes: Changes = field(default_factory=Changes)  # after each heartbeat (tests wait on it)
    orphans: Callable[[], None] = lambda: None  # told when a gone replica's replies came due
    orphan_downloads: Callable[[], None] = lambda: None  # … and when its attachment downloads did
    # when the last heartbeat that was written started, by the monotonic clock and by the wall clock
    # (the fence takes the older reading: a paused VM's monotonic clock may not count the pause)
    beaten: tuple[float, datetime] | None = field(default=None, init=False)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while True:
                await self.beat()
                self.changes.notify()
                if await self.store.clock.wait(stop, at_most=self.every):
                    break
        finally:
            with contextlib.suppress(StoreError):
                await self.store.replica_leave(self.replica)

    async def beat(self) -> None:
        """One heartbeat: say this replica is alive, share the budgets among the live ones, end
        the claims of the gone ones."""
        try:
            started = self._now()
            self.live = max(1, await self.store.replica_beat(self.replica, self.about, self.within))
            self.beaten = started
            for pacer in self.pacers:
                pacer.share_with(self.live)
            if freed := await self.store.end_orphan_claims(self.within):
                log.warning("%d reply(ies) in flight at a replica gone: reconciling", freed)
                self.orphans()
            if freed := await self.store.downloads.end_orphan_claims(self.within):
                log.warning("%d attachment download(s) of a replica gone: due again", freed)
                self.orphan_downloads()
        except StoreError as exc:  # keep the last count; the pacers keep their part
            log.warning("replica heartbeat failed: %s", exc)

    def fresh(self) -> bool:
        """Whether no other replica can have ended this one's claims yet: its last heartbeat
        started less than ``within - skew`` seconds ago (by both clocks)."""
        if self.beaten is None:
            return False
        clock, (monotonic, wall) = self.store.clock, self.beaten
        age = max(clock.monotonic() - monotonic, (clock.now() - wall).total_seconds())
        return age < self.within - self.skew

    def fence(self, row_id: int) -> Fence:
        """The check before outbox row ``row_id`` (claimed by this replica) is written to the
        platform: nothing while :meth:`fresh`; else a heartbeat and one question to the database,
        and :class:`~rcinbox.errors.ClaimLost` when the claim is no longer this replica's (or the
        database cannot say)."""

        async def check() -> None:
            if self.fresh():
                return
            started = self._now()
            try:
                ours = await self.store.replica_holds(self.replica, self.about, row_id, self.skew)
            except StoreError as exc:
                raise ClaimLost(f"cannot tell whether the claim is still this replica's: {exc}") from exc
            self.beaten = started
            if not ours:
                raise ClaimLost(
                    f"its claim was ended while this replica was not heard from for over {self.within:g} s"
                    " (frozen?): another replica has it now"
                )

        return check

    def _now(self) -> tuple[float, datetime]:
        return self.store.clock.monotonic(), self.store.clock.now()
