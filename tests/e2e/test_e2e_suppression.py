"""Every reason not to answer, end to end: the decision recorded with its reason, and nothing
at the emulator for the sender."""

from __future__ import annotations

from datetime import timedelta

import pytest
from e2e_kit import (
    ALEX,
    ALEX_EXT,
    ALEX_SUPPORT,
    CHARLIE,
    DANA,
    STRANGER,
    STRANGER2,
    Harness,
    Live,
    Sent,
    outbound,
    replies,
    reply_for,
    rules_toml,
)


async def suppressed(live: Live, sent: Sent) -> str:
    """The reason ``sent`` was not answered (failing if it was)."""
    outcome = await live.outcome(sent)
    assert outcome.action == "suppress", outcome
    assert outcome.reply is None and outcome.reply_text is None
    return outcome.reason


async def test_not_a_contact(e2e: Harness) -> None:
    async with e2e.running(rules_toml(audience="contacts")) as live:
        reason = await suppressed(live, await live.text("Hi, is this Alex?", sender=STRANGER))
    assert reason == "not-a-contact"
    assert await replies(e2e.http, STRANGER) == []


async def test_blocklisted_even_when_a_contact_and_the_audience_is_everyone(e2e: Harness) -> None:
    async with e2e.running(rules_toml(audience="everyone", blocklist=[CHARLIE])) as live:
        reason = await suppressed(live, await live.text("Hi Alex", sender=CHARLIE))
    assert reason == "blocklisted"
    assert await replies(e2e.http, CHARLIE) == []


async def test_vacation_switched_off(e2e: Harness) -> None:
    async with e2e.running(rules_toml(enabled=False)) as live:
        reason = await suppressed(live, await live.text("Hi Alex", sender=CHARLIE))
    assert reason == "vacation-off"
    assert await replies(e2e.http, CHARLIE) == []


async def test_group_message(e2e: Harness) -> None:
    async with e2e.running(rules_toml(audience="everyone")) as live:
        sent = await live.text("Dinner at 8?", sender=CHARLIE, to=[ALEX, STRANGER2])
        reason = await suppressed(live, sent)
        [entry] = await live.store.recent()
    assert reason == "group-message"
    assert (entry.sender, entry.receiving_number, entry.text) == (CHARLIE, ALEX, "Dinner at 8?")
    assert await outbound(e2e.http) == []


async def test_senders_that_cannot_or_must_not_be_answered(e2e: Harness) -> None:
    async with e2e.running(rules_toml(audience="everyone")) as live:
        short_code = await live.text("Your package is on its way", sender="12345")
        alphanumeric = await live.text("Your package is on its way", sender="AMAZON")
        invalid = await live.text("Your package is on its way", sender="+10005550100")  # area code 000
        reasons = [await suppressed(live, s) for s in (short_code, alphanumeric, invalid)]
        archived = [e.sender for e in reversed(await live.store.recent())]
    platform = [
        e2e.emu.world.messages[int(s.message_id)].from_number for s in (short_code, alphanumeric, invalid)
    ]
    assert reasons == ["short-code", "alphanumeric-sender", "invalid-sender"]
    assert archived == platform  # as the platform gave it ("12345" or "+12345" for the short code)
    assert archived[1:] == ["AMAZON", "+10005550100"]
    assert await outbound(e2e.http) == []


async def test_the_owner_texting_from_another_of_their_numbers(e2e: Harness) -> None:
    async with e2e.running(rules_toml(audience="everyone")) as live:
        reason = await suppressed(live, await live.text("note to self", sender=ALEX_SUPPORT, to=ALEX))
    assert reason == "own-number"
    assert await outbound(e2e.http) == []


AUTOMATED = {
    "+14155550201": "Auto-reply: I'm out of the office until Monday.",
    "+14155550202": "Flash sale! 20% off everything today. Reply STOP to unsubscribe",
    "+14155550203": "Free Msg: your bill of $42.10 is ready. Msg&data rates may apply",
    "+14155550204": "Your verification code is 482913",
    "+14155550205": "I'm away until January 4 with limited access to messages.",
}


async def test_automated_texts_get_no_reply_and_reply_stop_is_no_opt_out(e2e: Harness) -> None:
    async with e2e.running(rules_toml(audience="everyone")) as live:
        reasons = [await suppressed(live, await live.text(text, sender=n)) for n, text in AUTOMATED.items()]
        marketer = await live.outcome(await live.text("Are you around?", sender="+14155550202"))
    assert reasons == ["automated-sender"] * len(AUTOMATED)
    assert marketer.reason == "replied"  # the marketing footer's "STOP" did not opt the sender out
    assert [(r["from"], r["to"], r["text"]) for r in await outbound(e2e.http)] == [
        (ALEX, ["+14155550202"], reply_for(None))
    ]


async def test_a_duplicate_notification_is_archived_once_and_answered_once(
    e2e: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="rcinbox.pipeline")
    async with e2e.running() as live:
        sent = await live.text("Are you there?", sender=CHARLIE)
        first = await live.outcome(sent)
        assert live.redeliver(sent) >= 1
        # Deliveries keep their order on one transport: once a later message is decided, the
        # duplicate (delivered before it) has been received and turned away.
        marker = await live.outcome(await live.text("me too", sender=STRANGER))
        entries = await live.store.recent()
    assert (first.reason, marker.reason) == ("replied", "not-a-contact")
    assert [e.message_id for e in entries if e.sender == CHARLIE] == [sent.message_id]
    duplicates = [r for r in caplog.records if getattr(r, "action", None) == "message.duplicate"]
    assert [r.getMessage() for r in duplicates] == [
        f"accepted {sent.message_id} from {CHARLIE} via {e2e.transport} (duplicate)"
    ]
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]


async def test_a_colleague_or_the_main_company_number_gets_no_reply(e2e: Harness) -> None:
    async with e2e.running(rules_toml(audience="everyone")) as live:
        reasons = await live.reasons(
            await live.text("Lunch?", sender="+16505550102", to=ALEX),  # ext 102, Blair Kim
            await live.text("Reminder: all-hands at 3", sender="+16505550000", to=ALEX),  # main number
        )
    assert reasons == ["company-number", "company-number"]
    assert await outbound(e2e.http) == []


async def test_texts_from_before_the_first_start_are_archived_and_not_answered(e2e: Harness) -> None:
    """The first start's message-sync finds the last day's texts: a human may have dealt with them."""
    earlier = []
    for sender, text in ((CHARLIE, "Are we still on for tonight?"), (DANA, "Running late, sorry")):
        response = await e2e.http.post("/_emulator/inbound", json={"from": sender, "to": ALEX, "text": text})
        assert response.status_code == 200, response.text
        earlier.append(Sent(str(response.json()["messageId"]), ALEX_EXT))
    e2e.clock.advance(timedelta(minutes=1))  # the first start, a minute after them
    async with e2e.running() as live:
        reasons = [await suppressed(live, sent) for sent in earlier]
        sources = [(await live.stored(sent)).source for sent in earlier]
        later = await live.outcome(await live.text("Are you there?", sender=CHARLIE))
    assert (reasons, sources) == (["before-first-start"] * 2, ["sync"] * 2)
    assert later.reason == "replied"  # texts after the start are answered as usual
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]
    assert await replies(e2e.http, DANA) == []
