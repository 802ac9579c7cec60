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

from rcinbox.errors import StoreError
from rcinbox.platform import Pacer
from rcinbox.store import Store
from rcinbox.waiting import Changes

log = logging.getLogger("rcinbox.service")


@dataclass
class Membership:
    store: Store
    pacers: Sequence[Pacer]
    every: float = 5.0  # seconds between heartbeats
    within: float = 15.0  # a heartbeat older than this: that replica is gone
    replica: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    live: int = 1  # replicas counted at the last heartbeat, this one included
    changes: Changes = field(default_factory=Changes)  # after each heartbeat (tests wait on it)
    orphans: Callable[[], None] = lambda: None  # told when a gone replica's replies came due
    orphan_downloads: Callable[[], None] = lambda: None  # … and when its attachment downloads did

    async def run(self, stop: asyncio.Event) -> None:
        about = f"{socket.gethostname()} pid {os.getpid()}"
        try:
            while True:
                try:
                    self.live = max(1, await self.store.replica_beat(self.replica, about, self.within))
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
                self.changes.notify()
                if await self.store.clock.wait(stop, at_most=self.every):
                    break
        finally:
            with contextlib.suppress(StoreError):
                await self.store.replica_leave(self.replica)
