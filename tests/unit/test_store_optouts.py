"""Opt-outs as the dashboard shows them (who, when, by which words) and lifting one: a reason is
required, the lift is recorded (who, when, why) and kept, the consent checks allow replies again,
and a STOP after the lift opts out again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pipeline_fakes import CHARLIE, EXT
from views_kit import DANA, START, decide, opened, replied, suppressed, text_in

from rcinbox.clock import FakeClock
from rcinbox.errors import NotOptedOut
from rcinbox.store import DecisionRecord, Store

MINUTE = timedelta(minutes=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    async with opened(store_url, clock) as store:
        yield store


def opt_out(confidence: float | None = None) -> DecisionRecord:
    return DecisionRecord(
        action="opt-out", reason="opt-out", handle="vacation", facts={}, opt_confidence=confidence
    )


async def stop(store: Store, words: str, sender: str = CHARLIE, at_minute: int = 0, **kw: float) -> int:
    pk = await text_in(store, words, sender=sender, name="Charlie B", at=START + at_minute * MINUTE)
    await decide(store, pk, opt_out(**kw))
    return pk


async def test_the_opt_outs_list_who_when_and_by_which_words(store: Store) -> None:
    first = await stop(store, "STOP")
    await stop(store, "please   stop texting me", sender=DANA, at_minute=5, confidence=0.97)
    page = await store.opt_outs()
    assert [(o.number, o.at, o.keyword, o.words, o.confidence) for o in page.items] == [
        (DANA, START + 5 * MINUTE, "please stop texting me", "please   stop texting me", 0.97),
        (CHARLIE, START, "STOP", "STOP", None),
    ]
    assert (page.items[1].message_pk, page.items[1].sender_name) == (first, "Charlie B")
    assert [o.number for o in (await store.opt_outs(page=2, size=1)).items] == [CHARLIE]


async def test_lifting_needs_a_reason_and_an_opt_out(store: Store) -> None:
    await stop(store, "STOP")
    with pytest.raises(ValueError, match="needs a reason"):
        await store.lift_opt_out(CHARLIE, by="owner", reason="  ")
    with pytest.raises(ValueError, match="who lifts it"):
        await store.lift_opt_out(CHARLIE, by="", reason="called")
    with pytest.raises(NotOptedOut):
        await store.lift_opt_out(DANA, by="owner", reason="called")
    assert await store.opted_out(CHARLIE)  # nothing was changed


async def test_a_lift_is_recorded_and_replies_are_allowed_again(store: Store, clock: FakeClock) -> None:
    stopped = await stop(store, "STOP")
    clock.advance(3600)
    lift = await store.lift_opt_out(
        "(415) 555-0100", by="alex@example.com", reason="  asked by phone to resume "
    )
    assert (lift.number, lift.opted_out_at, lift.words, lift.message_pk) == (CHARLIE, START, "STOP", stopped)
    assert (lift.lifted_by, lift.reason, lift.lifted_at) == (
        "alex@example.com",
        "asked by phone to resume",
        clock.now(),
    )
    assert not await store.opted_out(CHARLIE)
    facts = await store.decision_facts(stopped, CHARLIE, EXT, START)
    assert not facts.opted_out
    assert (await store.opt_outs()).items == ()
    assert (await store.opt_out_lifts()).items == (lift,)
    assert (await store.opt_out_lifts(CHARLIE)).items == (lift,) and (
        await store.opt_out_lifts(DANA)
    ).items == ()
    (row,) = (await store.conversations()).items
    assert not row.opted_out
    with pytest.raises(NotOptedOut):  # lifted already
        await store.lift_opt_out(CHARLIE, by="alex@example.com", reason="again")
    # the outbox's claim sees the consent too: a reply queued now is not held back
    asked = await text_in(store, "are you there?", at=START + 70 * MINUTE)
    await decide(store, asked, replied())
    reply = await store.outbox.for_message(asked)
    assert reply is not None
    claim = await store.outbox.claim(reply.id)
    assert claim is not None and not claim.opted_out


async def test_an_opt_out_after_a_lift_works_again_and_the_history_is_kept(
    store: Store, clock: FakeClock
) -> None:
    await stop(store, "STOP")
    clock.advance(3600)
    first = await store.lift_opt_out(CHARLIE, by="alex", reason="called")
    again = await stop(store, "stop again", at_minute=90)
    assert await store.opted_out(CHARLIE)
    (current,) = (await store.opt_outs()).items
    assert (current.words, current.message_pk) == ("stop again", again)
    clock.advance(3600)
    second = await store.lift_opt_out(CHARLIE, by="sam", reason="wrote in")
    assert (await store.opt_out_lifts()).items == (second, first)
    assert second.words == "stop again" and not await store.opted_out(CHARLIE)


async def test_a_stop_sent_before_the_lift_but_decided_after_it_still_counts(
    store: Store, clock: FakeClock
) -> None:
    """The lift keeps the opt-out's time: a STOP the owner had not seen is respected."""
    await stop(store, "STOP")
    clock.advance(3600)
    late = await text_in(store, "STOP please", at=START + 30 * MINUTE)  # sent before the lift
    await store.lift_opt_out(CHARLIE, by="alex", reason="called")
    await decide(store, late, opt_out())
    assert await store.opted_out(CHARLIE)
    older = await text_in(store, "START", at=START + 10 * MINUTE)
    await decide(store, older, suppressed("opt-in", action="opt-in"))
    assert await store.opted_out(CHARLIE)  # an older START does not undo it
