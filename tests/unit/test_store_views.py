"""The dashboard's conversations and threads, read from a real SQLite archive: one row per
counterpart with its name, last text and opt-out badge, newest first, paged, per extension; one
counterpart's texts with decisions, replies, escalations and attachments, in time order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pipeline_fakes import CHARLIE, EXT
from views_kit import (
    DANA,
    EXT2,
    START,
    decide,
    escalated,
    opened,
    replied,
    send,
    stored_file,
    suppressed,
    text_in,
)

from rcinbox.clock import FakeClock
from rcinbox.store import Store
from rcinbox.store.views import timeline

MINUTE = timedelta(minutes=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    async with opened(store_url, clock) as store:
        yield store


async def test_one_row_per_counterpart_newest_first_with_the_last_text_either_way(
    store: Store, clock: FakeClock
) -> None:
    first = await text_in(store, "Are you open?", name="Charlie Brown", at=START)
    await text_in(store, "Hello from Dana", sender=DANA, at=START + MINUTE)
    clock.advance(2 * 60)
    await decide(store, first, replied(contact="Charlie", last="Brown"))
    await send(store, first)  # the reply to Charlie, sent after Dana's text
    page = await store.conversations()
    assert [(c.counterpart, c.name, c.last_text, c.last_direction, c.texts) for c in page.items] == [
        (CHARLIE, "Charlie Brown", "Away until Monday", "outbound", 1),
        (DANA, None, "Hello from Dana", "inbound", 1),
    ]
    assert page.items[0].last_at == START + 2 * MINUTE and not page.has_more


async def test_a_reply_not_sent_is_not_the_last_text(store: Store) -> None:
    pk = await text_in(store, "Are you open?")
    await decide(store, pk, replied())  # queued, never sent
    (row,) = (await store.conversations()).items
    assert (row.last_text, row.last_direction) == ("Are you open?", "inbound")


async def test_names_come_from_the_address_book_else_from_the_platform(store: Store) -> None:
    await text_in(store, "one", name="C. Brown (mobile)", at=START)
    later = await text_in(store, "two", at=START + MINUTE)  # no from.name on this one
    await decide(store, later, suppressed("not-a-contact", contact_name="Charlie", contact_last_name=None))
    await text_in(store, "hi", sender=DANA, name="Dana Lee", at=START)
    rows = {c.counterpart: c for c in (await store.conversations()).items}
    assert (rows[CHARLIE].contact_name, rows[CHARLIE].sender_name, rows[CHARLIE].name) == (
        "Charlie",
        "C. Brown (mobile)",
        "Charlie",
    )
    assert (rows[CHARLIE].texts, rows[DANA].name) == (2, "Dana Lee")


async def test_the_opt_out_badge(store: Store) -> None:
    stop = await text_in(store, "STOP")
    await decide(store, stop, suppressed("opt-out", action="opt-out"))
    await text_in(store, "hi", sender=DANA)
    rows = {c.counterpart: c.opted_out for c in (await store.conversations()).items}
    assert rows == {CHARLIE: True, DANA: False}


async def test_conversations_are_paged_and_filtered_by_extension(store: Store) -> None:
    senders = [f"+1415555{2000 + i}" for i in range(5)]
    for i, sender in enumerate(senders):
        await text_in(store, f"text {i}", sender=sender, at=START + i * MINUTE, ext=EXT2 if i == 4 else EXT)
    first = await store.conversations(size=2)
    second = await store.conversations(page=2, size=2)
    third = await store.conversations(page=3, size=2)
    assert [c.counterpart for c in first.items] == senders[4:2:-1] and first.has_more
    assert [c.counterpart for c in second.items] == senders[2:0:-1] and second.has_more
    assert [c.counterpart for c in third.items] == senders[:1] and not third.has_more
    only = await store.conversations(extension_id=EXT2)
    assert [c.counterpart for c in only.items] == [senders[4]]


async def test_a_thread_has_each_text_with_its_decision_reply_escalation_and_attachments(
    store: Store, clock: FakeClock
) -> None:
    photo = await text_in(store, "See the photo", at=START)
    await stored_file(store, photo, "a1")
    await stored_file(store, photo, "a2", "application/pdf")
    clock.advance(10 * 60)
    await decide(store, photo, replied())
    await send(store, photo)
    urgent = await text_in(store, "URGENT: the pipe burst", at=START + MINUTE)
    await decide(store, urgent, escalated())
    waiting = await text_in(store, "still there?", at=START + 2 * MINUTE)
    await text_in(store, "not Charlie", sender=DANA)
    page = await store.thread("(415) 555-0100")  # the number in another format
    assert [e.message.text for e in page.items] == ["See the photo", "URGENT: the pipe burst", "still there?"]
    first, second, third = page.items
    assert first.decision is not None and first.decision.reason == "replied"
    assert first.reply is not None and (first.reply.state, first.reply.text) == ("sent", "Away until Monday")
    assert [
        (f.attachment_id, f.content_type, f.path, f.size, f.sha256, f.state) for f in first.attachments
    ] == [
        ("a1", "image/jpeg", "attachments/a1.jpg", 3, "ab" * 32, "stored"),
        ("a2", "application/pdf", "attachments/a2.jpg", 3, "ab" * 32, "stored"),
    ]
    assert second.escalation is not None and second.escalation.to_number == "+16505550199"
    assert second.reply is None and second.decision is not None
    assert third.decision is None and third.message.pk == waiting and third.message.state == "received"
    kinds = [(event.kind, event.entry.message.text) for event in timeline(page.items)]
    assert kinds == [
        ("inbound", "See the photo"),
        ("inbound", "URGENT: the pipe burst"),
        ("inbound", "still there?"),
        ("reply", "See the photo"),  # sent 10 minutes later, after the texts came in
        ("escalation", "URGENT: the pipe burst"),
    ]


async def test_a_thread_is_paged_newest_first_and_filtered_by_extension(store: Store) -> None:
    for i in range(5):
        await text_in(store, f"text {i}", at=START + i * MINUTE, ext=EXT2 if i == 0 else EXT)
    newest = await store.thread(CHARLIE, size=2)
    older = await store.thread(CHARLIE, page=2, size=2)
    oldest = await store.thread(CHARLIE, page=3, size=2)
    assert [e.message.text for e in newest.items] == ["text 3", "text 4"] and newest.has_more
    assert [e.message.text for e in older.items] == ["text 1", "text 2"] and older.has_more
    assert [e.message.text for e in oldest.items] == ["text 0"] and not oldest.has_more
    mine = await store.thread(CHARLIE, extension_id=EXT)
    assert [e.message.text for e in mine.items] == ["text 1", "text 2", "text 3", "text 4"]
    assert (await store.thread(DANA)).items == ()
