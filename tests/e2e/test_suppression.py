"""Every reason not to answer, end to end: the decision recorded with its reason, and nothing
at the emulator for the sender."""

from __future__ import annotations

import pytest
from e2e_kit import (
    ALEX,
    ALEX_SUPPORT,
    CHARLIE,
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


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("12345", "short-code"),
        ("AMAZON", "alphanumeric-sender"),
        ("+10005550100", "invalid-sender"),  # area code 000 does not exist
    ],
)
async def test_senders_that_cannot_or_must_not_be_answered(e2e: Harness, sender: str, reason: str) -> None:
    async with e2e.running(rules_toml(audience="everyone")) as live:
        if sender.isalpha():  # the control API only takes numbers; the platform also delivers sender ids
            sent = live.text_raw(sender, "Your package is on its way")
        else:
            sent = await live.text("Your package is on its way", sender=sender)
        assert await suppressed(live, sent) == reason
        [entry] = await live.store.recent()
    assert entry.sender == ("+12345" if sender == "12345" else sender)
    assert await outbound(e2e.http) == []


async def test_the_owner_texting_from_another_of_their_numbers(e2e: Harness) -> None:
    async with e2e.running(rules_toml(audience="everyone")) as live:
        reason = await suppressed(live, await live.text("note to self", sender=ALEX_SUPPORT, to=ALEX))
    assert reason == "own-number"
    assert await outbound(e2e.http) == []


@pytest.mark.parametrize(
    "text",
    [
        "Auto-reply: I'm out of the office until Monday.",
        "Flash sale! 20% off everything today. Reply STOP to unsubscribe",
    ],
)
async def test_automated_texts_get_no_reply_and_reply_stop_is_no_opt_out(e2e: Harness, text: str) -> None:
    async with e2e.running() as live:
        reason = await suppressed(live, await live.text(text, sender=CHARLIE))
        later = await live.outcome(await live.text("Are you around?", sender=CHARLIE))
    assert reason == "automated-sender"
    assert later.reason == "replied"  # the marketing footer's "STOP" did not opt Charlie out
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]


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


@pytest.mark.xfail(
    strict=True,
    reason="the emulator does not serve GET /restapi/v1.0/account/~/phone-number "
    "(listAccountPhoneNumbers): with one extension configured the service cannot learn the "
    "company's other numbers, so a colleague (or the main number) texting gets a vacation reply",
)
async def test_a_colleague_or_the_main_company_number_gets_no_reply(e2e: Harness) -> None:
    async with e2e.running(rules_toml(audience="everyone")) as live:
        reasons = await live.reasons(
            await live.text("Lunch?", sender="+16505550102", to=ALEX),  # ext 102, Blair Kim
            await live.text("Reminder: all-hands at 3", sender="+16505550000", to=ALEX),  # main number
        )
    assert reasons == ["company-number", "company-number"]
    assert await outbound(e2e.http) == []
