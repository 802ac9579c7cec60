"""A replica frozen while a reply of its waits for the pacer (issue 11, "nothing sent twice"): once
its heartbeat is older than ``within``, another replica ends its claim, reconciles the reply and
sends it; the frozen one, waking, checks its claim right before writing the SMS (the membership's
fence) and sends nothing. A heartbeat gone stale with the claim still its own: it sends. A fresh
heartbeat: the fence asks the database nothing. Two replicas on one PostgreSQL database, one fake
clock for both (the time the others judge a heartbeat by), the emulator as RingCentral."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from outbox_kit import FAST, TEXT, queue_reply
from pipeline_fakes import CHARLIE, OWNER, emulator_client
from sqlalchemy import event

from rcinbox.clock import FakeClock
from rcinbox.emulator.runner import Running
from rcinbox.errors import ClaimLost
from rcinbox.platform import Credentials, Pacer, PlatformClient
from rcinbox.platform.waits import Wait, Waits
from rcinbox.service.membership import Membership
from rcinbox.service.outbox import Outbox
from rcinbox.store import Store


class SeenWaits(Waits):
    """The pacer's waits, and an event set when one begins: the test's cue that a send waits."""

    def __init__(self) -> None:
        super().__init__()
        self.began = asyncio.Event()

    def waiting(self, wait: Wait) -> Any:
        self.began.set()
        return super().waiting(wait)


@dataclass
class Replica:
    store: Store
    membership: Membership
    outbox: Outbox


def replica(store: Store, client: Any, name: str) -> Replica:
    membership = Membership(store, [], replica=name)
    outbox = Outbox(store, client, options=FAST)
    outbox.claimant, outbox.fence = membership.replica, membership.fence  # as the service does
    return Replica(store, membership, outbox)


@contextlib.asynccontextmanager
async def paced_client(emu: Running, token_file: Path, clock: FakeClock) -> AsyncIterator[PlatformClient]:
    """An emulator client whose pacer runs on ``clock`` and was just told to pause SMS for 30 s
    (a 429): a reply sent with it waits in the pacer until the clock has moved 30 s."""
    world = emu.world
    credentials = Credentials(emu.url, world.app.client_id, world.app.client_secret, world.extensions[0].jwt)
    async with PlatformClient.open(
        credentials, token_file=token_file, upkeep=False, clock=clock, waits=SeenWaits()
    ) as client:
        client.pacer.penalize("Medium", 30)  # the SMS group
        yield client


async def outbound_replies(http: httpx.AsyncClient) -> list[tuple[str, list[str], str, str]]:
    """The replies the emulator received: from, to, text and the id it gave each."""
    records = (await http.get("/_emulator/outbound")).json()["records"]
    return [(r["from"], r["to"], r["text"], str(r["id"])) for r in records if r["text"] == TEXT]


async def test_a_replica_frozen_in_the_pacer_does_not_send_the_reply_another_took_over(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path, pg_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rcinbox.pipeline")
    clock = FakeClock()
    ext = str(emu.world.extensions[0].id)
    async with (
        await Store.open(pg_database, clock=clock) as frozen_store,
        await Store.open(pg_database, clock=clock) as other_store,
        paced_client(emu, tmp_path / "frozen-tokens.json", clock) as frozen_client,
        emulator_client(emu, tmp_path) as other_client,
    ):
        frozen = replica(frozen_store, frozen_client, "frozen00")
        other = replica(other_store, other_client, "other000")
        row = await queue_reply(frozen_store, "21", ext=ext, to=CHARLIE)
        await frozen.membership.beat()
        await other.membership.beat()
        sending = asyncio.create_task(frozen.outbox.deliver(row.id))
        assert isinstance(frozen_client.pacer.waits, SeenWaits)
        await asyncio.wait_for(frozen_client.pacer.waits.began.wait(), 5)  # claimed, waiting to send
        clock.advance(20)  # the frozen replica's last heartbeat is 20 s old...
        await other.membership.beat()  # ...so the other ends its claim
        assert await other.outbox.drain() == 1  # and reconciles it (not sent) and sends it
        assert not sending.done()
        clock.advance(15)  # the frozen one wakes: the pacer lets its send go
        await asyncio.wait_for(sending, 5)
        final = await other_store.outbox.get(row.id)
    assert final is not None and final.state == "sent"
    assert await outbound_replies(http) == [(OWNER, [CHARLIE], TEXT, final.platform_message_id)]  # once
    lost = [r.getMessage() for r in caplog.records if getattr(r, "action", "") == "outbox.claim-lost"]
    assert lost == [
        f"reply {row.id} to {CHARLIE} not sent here: its claim was ended while this replica was not "
        "heard from for over 15 s (frozen?): another replica has it now"
    ]


async def test_a_stale_heartbeat_with_the_claim_still_its_own_sends(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path, pg_database: str
) -> None:
    clock = FakeClock()
    ext = str(emu.world.extensions[0].id)
    async with (
        await Store.open(pg_database, clock=clock) as store,
        paced_client(emu, tmp_path / "slow-tokens.json", clock) as client,
    ):
        slow = replica(store, client, "slow0000")
        row = await queue_reply(store, "22", ext=ext, to=CHARLIE)
        await slow.membership.beat()
        sending = asyncio.create_task(slow.outbox.deliver(row.id))
        assert isinstance(client.pacer.waits, SeenWaits)
        await asyncio.wait_for(client.pacer.waits.began.wait(), 5)
        clock.advance(35)  # nobody ended the claim meanwhile
        with counted(store) as statements:
            await asyncio.wait_for(sending, 5)
        final = await store.outbox.get(row.id)
    assert final is not None and final.state == "sent"
    assert await outbound_replies(http) == [(OWNER, [CHARLIE], TEXT, final.platform_message_id)]
    assert any("FOR UPDATE" in s and "outbox" in s for s in statements)  # the fence asked


async def test_the_fence_asks_the_database_only_when_the_heartbeat_may_be_judged_stale(
    pg_database: str,
) -> None:
    clock = FakeClock()
    async with await Store.open(pg_database, clock=clock) as store:
        row = await queue_reply(store, "23")
        me = Membership(store, [Pacer()], replica="me000000")  # within 15 s, skew 5 s
        await me.beat()
        assert await store.outbox.claim(row.id, claimant=me.replica) is not None
        with counted(store) as statements:
            clock.advance(9.9)
            await me.fence(row.id)()  # no other replica can have ended it: no question asked
            assert statements == []
            clock.advance(0.2)  # 10.1 s: one whose clock is 5 s ahead may judge it older than 15 s
            await me.fence(row.id)()  # asks (a heartbeat, the claim): still this replica's
            assert len(statements) == 2
            await me.fence(row.id)()  # the heartbeat it just wrote is fresh
            assert len(statements) == 2
        clock.advance(16)
        ahead = FakeClock(clock.now() + timedelta(seconds=4))  # another replica's clock, 4 s ahead
        async with await Store.open(pg_database, clock=ahead) as other:
            assert await other.end_orphan_claims(15.0) == 1  # it ends the claim (its lease ends at +4 s)
        with pytest.raises(ClaimLost):  # ...and before anyone took the row, it is no longer ours
            await me.fence(row.id)()


@contextlib.contextmanager
def counted(store: Store) -> Iterator[list[str]]:
    """The SQL statements ``store`` sends within the block."""
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = store.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)
