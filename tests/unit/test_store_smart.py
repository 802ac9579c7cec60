"""The store's part in smart replies (migration 0004): the decision's intent, confidence, backend
and reply kind (hash-chained when set), an opt-out's words and confidence, the escalation as a
second outbox row, and the ledger read the pipeline gathers (last reply per handle, last
escalation about a sender) in one query."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pipeline_fakes import CHARLIE, OWNER, envelope
from sqlalchemy import select, text

from rcinbox.clock import FakeClock
from rcinbox.events import InboundMessage
from rcinbox.store import DecisionRecord, EscalationRecord, Store
from rcinbox.store.chain import link
from rcinbox.store.schema import decisions, opt_outs

BACKUP = "+16505550123"
SMART = {"intent": "urgent", "confidence": 0.93, "backend": "builtin", "reply_kind": "urgent"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 12, 21, 15, 0, tzinfo=UTC))


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    async with await Store.open(store_url, clock=clock) as opened:
        yield opened


async def accepted(store: Store, message_id: str, body: str = "urgent: call me") -> int:
    await store.accept(
        InboundMessage.from_notification(envelope(message_id=message_id, text=body), "webhook")
    )  # type: ignore[arg-type]
    found = await store.find_message("62264425016", message_id)
    assert found is not None
    return found.pk


def urgent(handle: str = "urgent:abc", escalate: bool = True) -> DecisionRecord:
    escalation = EscalationRecord(
        "Urgent text from Charlie (+14155550100)", OWNER, BACKUP, "escalation:w", CHARLIE
    )
    return DecisionRecord(
        action="reply",
        reason="replied",
        handle=handle,
        facts={},
        reply_text="Away; urgent? call Sam",
        reply_from=OWNER,
        reply_to=CHARLIE,
        escalation=escalation if escalate else None,
        **SMART,  # type: ignore[arg-type]
    )


async def test_an_escalation_is_a_second_outbox_row_about_the_sender(store: Store, clock: FakeClock) -> None:
    pk = await accepted(store, "1")
    assert await store.conclude(pk, urgent()) is True
    reply, escalation = await store.outbox.for_message(pk), await store.outbox.for_message(pk, "escalation")
    assert reply is not None and escalation is not None
    assert (reply.kind, reply.to_number, reply.about) == ("reply", CHARLIE, None)
    assert (escalation.kind, escalation.from_number, escalation.to_number, escalation.about) == (
        "escalation",
        OWNER,
        BACKUP,
        CHARLIE,
    )
    assert escalation.text == "Urgent text from Charlie (+14155550100)"
    assert [row.id for row in await store.outbox.due()] == [reply.id, escalation.id]
    # the escalation is an automated text to the escalation number (loop fuse), not to the sender
    assert await store.automated_count(BACKUP, clock.now()) == 1
    assert await store.automated_count(CHARLIE, clock.now()) == 1
    # the message is done when its last row is
    await store.outbox.mark_sent(reply.id, "900")
    assert (await store.message(pk)).state == "decided"
    await store.outbox.mark_sent(escalation.id, "901")
    assert (await store.message(pk)).state == "done"


async def test_one_escalation_per_message_at_most(store: Store) -> None:
    pk = await accepted(store, "1")
    await store.conclude(pk, urgent())
    async with store.engine.begin() as conn:  # the constraint itself, not only conclude's dedupe
        with pytest.raises(Exception, match=r"UNIQUE|duplicate key"):
            await conn.execute(
                text(
                    "INSERT INTO outbox (message_pk, extension_id, from_number, to_number, text, handle,"
                    " state, attempts, queued_at, updated_at, kind)"
                    " SELECT message_pk, extension_id, from_number, to_number, text, handle, state,"
                    " attempts, queued_at, updated_at, kind FROM outbox WHERE kind = 'escalation'"
                )
            )


async def test_history_is_the_last_reply_per_handle_and_the_last_escalation(
    store: Store, clock: FakeClock
) -> None:
    first = clock.now()
    assert (await store.history(CHARLIE)).last_replies == {}
    await store.conclude(await accepted(store, "1"), urgent("vacation:v", escalate=False))
    clock.advance(timedelta(hours=1))
    await store.conclude(await accepted(store, "2"), urgent("urgent:u"))
    clock.advance(timedelta(hours=1))
    await store.conclude(await accepted(store, "3"), urgent("vacation:v", escalate=False))
    history = await store.history("+1 (415) 555-0100")  # any spelling of the number
    assert dict(history.last_replies) == {
        "vacation:v": first + timedelta(hours=2),
        "urgent:u": first + timedelta(hours=1),
    }
    assert history.escalated_at == first + timedelta(hours=1)
    assert (await store.history(BACKUP)).last_replies == {}  # an escalation is no reply to its recipient
    assert await store.last_reply_at(CHARLIE, "escalation:w") is None
    # a failed escalation does not count as one
    escalation = await store.outbox.for_message(
        (await store.find_message("62264425016", "2")).pk, "escalation"
    )  # type: ignore[union-attr]
    assert escalation is not None
    await store.outbox.mark_failed(escalation.id, "refused")
    assert (await store.history(CHARLIE)).escalated_at is None


async def test_the_decision_records_what_was_understood_and_the_chain_covers_it(store: Store) -> None:
    plain = await accepted(store, "1", "hello")
    smart = await accepted(store, "2")
    await store.conclude(
        plain, DecisionRecord(action="suppress", reason="outside-window", handle="v", facts={})
    )
    await store.conclude(smart, urgent())
    recorded = await store.decision(smart)
    assert recorded is not None
    assert (recorded.intent, recorded.confidence, recorded.backend, recorded.reply_kind) == tuple(
        SMART.values()
    )
    assert (await store.verify_decisions()).ok
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(decisions).where(decisions.c.message_pk == plain))).mappings().one()
    # a decision without them hashes exactly as before migration 0004 (old rows still verify)
    legacy = {k: v for k, v in row.items() if k not in SMART}
    assert link(row["prev_hash"], legacy) == row["hash"]
    async with store.engine.begin() as conn:
        await conn.execute(
            text("UPDATE decisions SET intent = 'thanks' WHERE message_pk = :pk"), {"pk": smart}
        )
    report = await store.verify_decisions()
    assert (report.ok, report.problem) == (False, "the decision does not match its hash")
    async with store.engine.begin() as conn:
        await conn.execute(text("UPDATE decisions SET intent = NULL WHERE message_pk = :pk"), {"pk": smart})
    assert not (await store.verify_decisions()).ok  # nor can it be erased


async def test_an_opt_out_keeps_its_words_and_the_classifier_s_confidence(store: Store) -> None:
    words = "pls stop texting me, take me off your list " + "x" * 40
    fuzzy = await accepted(store, "1", words)
    opt_out = DecisionRecord(action="opt-out", reason="opt-out", handle="v", facts={}, opt_confidence=0.91)
    await store.conclude(fuzzy, opt_out)
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(opt_outs))).mappings().one()
    assert (row["state"], row["words"], row["confidence"], row["keyword"]) == (
        "opted_out",
        words,
        0.91,
        words[:64],
    )
    start = await accepted(store, "2", "START")
    await store.conclude(
        start, DecisionRecord(action="opt-in", reason="opt-in", handle="v", facts={}, opt_confidence=0.9)
    )
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(opt_outs))).mappings().one()
    assert (row["state"], row["words"], row["confidence"]) == ("opted_in", "START", None)


async def test_the_archive_shows_the_intent_and_the_escalation(store: Store) -> None:
    pk = await accepted(store, "1")
    await store.conclude(pk, urgent())
    (entry,) = await store.recent()
    assert (entry.intent, entry.confidence, entry.backend, entry.reply_kind) == tuple(SMART.values())
    assert (entry.escalation_to, entry.escalation_state, entry.reply_state) == (BACKUP, "queued", "queued")
