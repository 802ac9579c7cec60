"""The leader's work, run only while this replica holds the lease (:mod:`rcinbox.store.lease`).

:meth:`Leadership.run` loops until ``stop``: try the lease every :attr:`LeaderPolicy.retry`
seconds; once it is ours, run the leader's work (a coroutine given an event that ends it) and
check the lease every :attr:`LeaderPolicy.beat` seconds; when the check fails (the database
connection died, the server ended the session, it did not answer in time) set the event, let the
work end, and go back to trying. At ``stop`` the work ends and the lease is given up, so another
replica takes over on its next try instead of waiting for a connection to time out.

A replica that dies gives the lease up with its connection: the others take over within
``retry`` seconds (2 s by default; the issue asks for 15).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rcinbox.clock import SYSTEM, Clock
from rcinbox.store.lease import Lease
from rcinbox.waiting import Changes

log = logging.getLogger("rcinbox.leadership")

Work = Callable[[asyncio.Event], Awaitable[None]]


@dataclass(frozen=True)
class LeaderPolicy:
    retry: float = 2.0  # seconds between tries while another replica leads
    beat: float = 2.0  # seconds between checks that the lease is still ours


class Leadership:
    """Runs ``work`` while this replica leads; :attr:`leading` and :attr:`changes` tell others."""

    def __init__(
        self,
        lease: Lease,
        *,
        name: str = "this replica",
        policy: LeaderPolicy | None = None,
        clock: Clock = SYSTEM,
    ) -> None:
        self.lease = lease
        self.name = name
        self.policy = policy or LeaderPolicy()
        self.clock = clock
        self.leading = False
        self.terms = 0  # how many times this replica has become the leader
        self.following = False  # another replica holds the lease (the database said so)
        self.changes = Changes()

    async def run(self, stop: asyncio.Event, work: Work) -> None:
        while not stop.is_set():
            if not await self.lease.acquire():
                self.following = self.lease.answered  # False: the database did not answer
                await self.clock.wait(stop, at_most=self.policy.retry)
            elif stop.is_set():  # stopped while asking: give it back for the others at once
                await self.lease.release()
            else:
                await self._lead(stop, work)

    async def _lead(self, stop: asyncio.Event, work: Work) -> None:
        ended = asyncio.Event()
        self._become(True)
        log.info("%s leads: it holds the subscription and the scheduled work", self.name)
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._keep(stop, ended), name="rcinbox.leadership.beat")
                try:
                    await work(ended)
                finally:
                    ended.set()  # the work ended on its own: stop checking
        finally:
            self._become(False)
            await self.lease.release()
            if not stop.is_set():
                log.warning("%s no longer leads; it keeps taking deliveries and sending", self.name)

    async def _keep(self, stop: asyncio.Event, ended: asyncio.Event) -> None:
        """Set ``ended`` at ``stop`` or as soon as the lease is no longer confirmed."""
        while not await self.clock.wait(stop, ended, at_most=self.policy.beat):
            if not await self.lease.held():
                log.warning("%s lost the leader lease (the database did not confirm it)", self.name)
                break
        ended.set()

    def _become(self, leading: bool) -> None:
        self.leading, self.following = leading, False
        self.terms += leading
        self.changes.notify()
