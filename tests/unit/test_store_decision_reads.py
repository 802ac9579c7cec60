"""What a decision reads and writes, batched: ``Store.decision_facts`` (one statement) equals the
single-purpose reads in every state of the ledger, and concurrent ``Store.conclude`` calls share a
transaction (store/conclusions.py) while the decision chain, duplicates and failures stay exact."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pipeline_fakes import CHARLIE, EXT, OWNER, envelope

from rcinbox.clock import FakeClock
from rcinbox.errors import StoreError
from rcinbox.events import InboundMessage
from rcinbox.store import DecisionRecord, EscalationRecord, Store

OTHER = "+14155550199"
BLAIR_EXT, BLAIR = "62264426016", "+16505550102"  # a second extension (a super admin's other user)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    async with await Store.open(store_url, clock=clock) as opened:
        yield opened


def msg(mid: str, sender: str = CHARLIE, text: str = "hello", ext: str = EXT) -> InboundMessage:
    to = (OWNER,) if ext == EXT else (BLAIR,)
    notification = envelope(message_id=mid, sender=sender, text=text, ext=ext, to=to)
    return InboundMessage.from_notification(notification, "webhook")


def reply(to: str = CHARLIE, handle: str = "vacation") -> DecisionRecord:
    return DecisionRecord(
        action="reply",
        reason="replied",
        handle=handle,
        facts={},
        reply_text="Away",
        reply_from=OWNER,
        reply_to=to,
    )


def suppress(action: str = "suppress", **changes: object) -> DecisionRecord:
    record = DecisionRecord(action="suppress", reason="r", handle="vacation", facts={})
    return dataclasses.replace(record, action=action, **changes)  # type: ignore[arg-type]


async def separately(store: Store, pk: int, sender: str, since: datetime) -> tuple[object, ...]:
    history = await store.history(sender, EXT)
    return (
        await store.opted_out(sender),
        dict(history.last_replies),
        history.escalated_at,
        await store.has_reply(pk),
        await store.automated_count(sender, since),
    )


async def together(store: Store, pk: int, sender: str, since: datetime) -> tuple[object, ...]:
    facts = await store.decision_facts(pk, sender, EXT, since)
    return (
        facts.opted_out,
        dict(facts.history.last_replies),
        facts.history.escalated_at,
        facts.replied_to_message,
        facts.automated_count,
    )


async def test_decision_facts_equal_the_separate_reads(store: Store, clock: FakeClock) -> None:
    start = clock.now()
    for i in range(8):
        await store.accept(msg(str(i), sender=CHARLIE if i % 2 == 0 else OTHER))
    pks = [m.pk for m in await store.due()]
    states = []

    async def snapshot() -> None:
        for pk in pks:
            for sender in (CHARLIE, OTHER, "22000"):
                for since in (start - timedelta(days=1), clock.now()):
                    expected = await separately(store, pk, sender, since)
                    assert await together(store, pk, sender, since) == expected
                    states.append(expected)

    await snapshot()  # nothing yet
    assert await store.conclude(pks[0], reply()) is True
    clock.advance(timedelta(hours=1))
    assert await store.conclude(pks[2], reply(handle="smart:hours")) is True
    escalation = EscalationRecord(
        text="see", from_number=OWNER, to_number="+16505550123", handle="esc", about=CHARLIE
    )
    assert await store.conclude(pks[4], suppress(escalation=escalation)) is True
    assert await store.conclude(pks[1], suppress("opt-out")) is True
    await snapshot()  # replies under two handles, an escalation, an opt-out
    reply_row = await store.outbox.for_message(pks[0])
    assert reply_row is not None
    await store.outbox.mark_failed(reply_row.id, "refused")
    await snapshot()  # a failed reply no longer counts
    assert any(state[0] for state in states) and any(state[3] for state in states)
    assert any(state[2] is not None for state in states) and {len(state[1]) for state in states} >= {0, 1, 2}  # type: ignore[arg-type]


async def test_repeat_tracking_is_per_extension_and_the_loop_fuse_counts_every_extension(
    store: Store, clock: FakeClock
) -> None:
    since = clock.now()
    await store.accept(msg("a1"))  # Charlie texts Alex's extension...
    await store.accept(msg("b1", ext=BLAIR_EXT))  # ... and Blair's
    await store.accept(msg("b2", ext=BLAIR_EXT))
    alex_pk, blair_pk, blair_next = [m.pk for m in await store.due()]
    escalation = EscalationRecord(
        text="see", from_number=OWNER, to_number="+16505550123", handle="e", about=CHARLIE
    )
    alexs_reply = dataclasses.replace(reply(handle="vacation:same"), escalation=escalation)
    assert await store.conclude(alex_pk, alexs_reply) is True
    alex = await store.decision_facts(alex_pk, CHARLIE, EXT, since)
    blair = await store.decision_facts(blair_pk, CHARLIE, BLAIR_EXT, since)
    assert (dict(alex.history.last_replies), alex.history.escalated_at) == ({"vacation:same": since}, since)
    assert (dict(blair.history.last_replies), blair.history.escalated_at) == ({}, None)  # Alex's, not Blair's
    assert (alex.automated_count, blair.automated_count) == (1, 1)  # the reply to Charlie counts for both
    assert await store.last_reply_at(CHARLIE, "vacation:same", BLAIR_EXT) is None
    assert await store.last_reply_at(CHARLIE, "vacation:same") == since  # any extension
    blairs_reply = dataclasses.replace(reply(handle="vacation:same"), reply_from=BLAIR)
    assert await store.conclude(blair_pk, blairs_reply, None) is True
    later = await store.decision_facts(blair_next, CHARLIE, BLAIR_EXT, since)
    assert dict(later.history.last_replies) == {"vacation:same": since}
    assert later.automated_count == 2
    assert (await store.history(CHARLIE, EXT)).last_replies == {"vacation:same": since}
    assert await store.automated_count(CHARLIE, since) == 2


async def test_concurrent_conclusions_share_a_transaction_and_chain_in_order(store: Store) -> None:
    for i in range(30):
        await store.accept(msg(str(i), sender=f"+1415555{i:04d}"))
    pks = [m.pk for m in await store.due()]
    before = store.conclusions.transactions
    results = await asyncio.gather(
        *(store.conclude(pk, reply(to=f"+1415555{i:04d}")) for i, pk in enumerate(pks)),
        store.conclude(pks[3], suppress()),  # a second decision for one message in the same batch
    )
    assert results == [True] * 30 + [False]
    assert store.conclusions.transactions - before <= 2
    assert await store.conclude(pks[0], suppress()) is False  # and in a later one
    report = await store.verify_decisions()
    assert report.ok and report.decisions == 30
    entries = await store.recent(limit=50)
    assert {(e.state, e.action, e.reply_state) for e in entries} == {("decided", "reply", "queued")}


async def test_a_conclusion_the_database_refuses_fails_alone(store: Store) -> None:
    for i in range(3):
        await store.accept(msg(str(i), sender=f"+1415555{i:04d}"))
    pks = [m.pk for m in await store.due()]
    unstorable = dataclasses.replace(reply(to="+14155550001"), reply_text="lone \ud800")
    results = await asyncio.gather(
        store.conclude(pks[0], reply(to="+14155550000")),
        store.conclude(pks[1], unstorable),
        store.conclude(pks[2], suppress()),
        return_exceptions=True,
    )
    assert results[0] is True and results[2] is True
    assert isinstance(results[1], StoreError)
    states = {e.pk: (e.state, e.action) for e in await store.recent()}
    assert states == {pks[0]: ("decided", "reply"), pks[1]: ("received", None), pks[2]: ("done", "suppress")}
    assert (await store.verify_decisions()).ok
