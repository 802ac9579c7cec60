"""Replicas on one PostgreSQL database: one sender's texts decided by two processes at once still
get one reply (the sender's turn, store/sender_turns.py); a text accepted by a replica that died
is decided by another without any wake-up (the pipeline's sweep); an outbox on a shared store
leaves the rows other replicas have in flight alone at its start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from outbox_kit import queue_reply
from pipeline_fakes import CHARLIE, EXT, FakeBook, FakePlatform, envelope, vacation_rules
from sqlalchemy import func, select, text

from rcinbox.clock import FakeClock
from rcinbox.events import InboundMessage
from rcinbox.intent import Classification
from rcinbox.rules.smart_config import Smart
from rcinbox.service.outbox import Outbox, OutboxOptions
from rcinbox.service.pipeline import Pipeline, PipelineOptions
from rcinbox.service.understanding import Understanding
from rcinbox.store import Store
from rcinbox.store.schema import outbox

WITHIN = 10.0


class Gated(Understanding):
    """Holds the text ``slow`` until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.held = asyncio.Event()

    async def classify(self, smart: Smart, text: str) -> Classification | None:
        if text == "slow":
            self.held.set()
            await self.gate.wait()
        return None


def replica(
    store: Store, tmp_path: Path, understanding: Understanding | None = None, **options: float
) -> Pipeline:
    fake = FakePlatform()
    return Pipeline(
        store,
        fake,
        vacation_rules,
        {EXT: FakeBook()},
        tmp_path / "data",
        outbox=Outbox(store, fake),
        options=PipelineOptions(**options),  # type: ignore[arg-type]
        understanding=understanding,
    )


def sms(words: str) -> InboundMessage:
    return InboundMessage.from_notification(envelope(sender=CHARLIE, text=words), "webhook")


async def replies_to(store: Store, number: str) -> int:
    query = select(func.count()).select_from(outbox).where(outbox.c.to_number == number)
    async with store.engine.connect() as conn:
        return int(await conn.scalar(query) or 0)


async def waiting_turns(store: Store) -> int:
    query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    async with store.engine.connect() as conn:
        return int(await conn.scalar(query) or 0)


async def test_one_senders_texts_on_two_replicas_at_once_get_one_reply(
    pg_database: str, tmp_path: Path
) -> None:
    gated = Gated()
    async with await Store.open(pg_database) as one, await Store.open(pg_database) as two:
        first, second = replica(one, tmp_path / "1", gated), replica(two, tmp_path / "2")
        assert await first.accept(sms("slow"))
        deciding = asyncio.create_task(first.drain())
        await asyncio.wait_for(gated.held.wait(), WITHIN)  # the first replica holds Charlie's turn
        assert await two.accept(sms("Are you around?"))
        (later,) = [m for m in await two.due() if m.text == "Are you around?"]
        waiting = asyncio.create_task(second.process(later.pk))
        turns = two.turns
        assert turns is not None

        async def asked() -> bool:
            return turns.waiting == 1

        await turns.changes.until(asked, WITHIN)  # the second waits for Charlie's turn
        assert await waiting_turns(one) == 1 and not waiting.done()  # in the database's lock queue
        gated.gate.set()
        await asyncio.wait_for(asyncio.gather(deciding, waiting), WITHIN)
        await first.drain()
        assert await replies_to(one, CHARLIE) == 1
        decided = {(e.text, e.reason) for e in await one.recent(limit=10)}
    assert decided == {("slow", "replied"), ("Are you around?", "already-replied")}


async def test_a_text_another_replica_accepted_is_decided_by_the_sweep(
    pg_database: str, tmp_path: Path
) -> None:
    async with await Store.open(pg_database) as one, await Store.open(pg_database) as dead:
        survivor = replica(one, tmp_path, sweep=0.05)
        stop = asyncio.Event()
        running = asyncio.create_task(survivor.run(stop))
        try:
            assert await dead.accept(sms("Are you there?"))  # accepted, never decided by its replica

            async def decided() -> bool:
                return await replies_to(one, CHARLIE) == 1

            await survivor.changes.until(decided, WITHIN)
        finally:
            stop.set()
            await running


@pytest.mark.parametrize("shared", [True, False])
async def test_an_outbox_recovers_rows_in_flight_only_on_a_store_of_its_own(
    shared: bool, pg_database: str, tmp_path: Path
) -> None:
    url = pg_database if shared else f"sqlite+aiosqlite:///{tmp_path}/rcinbox.db"
    async with await Store.open(url) as store:
        row = await queue_reply(store, "m1", to=CHARLIE)
        assert await store.outbox.claim(row.id) is not None  # another replica's send, in flight
        due = await queue_reply(store, "m2", to="+14155550123")
        fake = FakePlatform()
        sender = Outbox(store, fake)
        stop = asyncio.Event()
        running = asyncio.create_task(sender.run(stop))
        await sender.changes.until(lambda: _settled(store, due.id, "sent"), WITHIN)  # its first round
        stop.set()
        await running
        in_flight = await store.outbox.get(row.id)
    assert sender.recovers is not shared
    assert in_flight is not None and in_flight.state == ("sending" if shared else "sent")
    assert len(fake.sent) == (1 if shared else 2)


async def _settled(store: Store, row_id: int, state: str) -> bool:
    current = await store.outbox.get(row_id)
    return current is not None and current.state == state


async def test_a_reply_another_replica_queued_is_sent_by_the_outboxs_sweep(pg_database: str) -> None:
    """A replica that queued a reply and died (or stopped) before claiming it told nobody: a
    live replica's outbox, asleep with nothing due, looks again within its sweep and sends it."""
    clock = FakeClock()
    async with await Store.open(pg_database, clock=clock) as one, await Store.open(pg_database) as gone:
        fake = FakePlatform()
        sender = Outbox(one, fake, options=OutboxOptions(sweep=5.0))
        stop = asyncio.Event()
        running = asyncio.create_task(sender.run(stop))
        try:
            await clock.until_asleep()  # idle: nothing due, nothing scheduled but the sweep
            assert clock.next_wake() == 5.0
            row = await queue_reply(gone, "m-gone", to=CHARLIE)
            clock.advance(5.0)
            await sender.changes.until(lambda: _settled(one, row.id, "sent"), WITHIN)
        finally:
            stop.set()
            await running
    assert [record["to"] for record in fake.sent] == [[{"phoneNumber": CHARLIE}]]
