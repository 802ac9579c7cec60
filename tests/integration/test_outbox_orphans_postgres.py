"""A replica that dies with replies in flight: once its heartbeat is gone, a live replica's
membership ends its claims (``outbox.claimed_by``) and the live replica's outbox reconciles and
sends each one once, without waiting for the 10-minute lease; the claims of a live replica are
left alone."""

from __future__ import annotations

import asyncio

from outbox_kit import queue_reply
from pipeline_fakes import CHARLIE, FakePlatform

from rcinbox.platform import Pacer
from rcinbox.service.membership import Membership
from rcinbox.service.outbox import Outbox
from rcinbox.store import Store

DANA = "+14155550101"


async def test_a_dead_replicas_replies_in_flight_are_sent_once_by_a_live_one(pg_database: str) -> None:
    async with await Store.open(pg_database) as store, await Store.open(pg_database) as other:
        dead = await queue_reply(store, "m1", to=CHARLIE)
        busy = await queue_reply(store, "m2", to=DANA)
        # the dead replica claimed one and never beat again; a live one is sending the other
        assert await other.outbox.claim(dead.id, claimant="dead0000") is not None
        alive = Membership(other, [Pacer()], every=0.1, within=1.0, replica="alive000")
        stop_alive = asyncio.Event()
        beating = asyncio.create_task(alive.run(stop_alive))
        await alive.changes.until(lambda: _beaten(alive), 5)  # its heartbeat is in
        assert await other.outbox.claim(busy.id, claimant="alive000") is not None

        fake = FakePlatform()
        outbox = Outbox(store, fake)
        member = Membership(store, [Pacer()], every=0.1, within=1.0, orphans=outbox.wake)
        outbox.claimant = member.replica
        stop = asyncio.Event()
        tasks = [asyncio.create_task(outbox.run(stop)), asyncio.create_task(member.run(stop))]
        try:
            await outbox.changes.until(lambda: _state(store, dead.id, "sent"), 5)
        finally:
            stop.set()
            stop_alive.set()
            await asyncio.gather(*tasks, beating)
        busy_row = await store.outbox.get(busy.id)
    assert [r["to"][0]["phoneNumber"] for r in fake.sent] == [CHARLIE]
    assert busy_row is not None and busy_row.state == "sending"  # still the live replica's


async def _beaten(member: Membership) -> bool:
    return member.changes.count > 0


async def _state(store: Store, row_id: int, state: str) -> bool:
    row = await store.outbox.get(row_id)
    return row is not None and row.state == state
