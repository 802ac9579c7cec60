"""Vacation replies as the sender sees them: personalised (address book, else ``from.name``),
sent from the number that was texted, to the sender, never quoting the inbound text."""

from __future__ import annotations

import asyncio

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
    cli_messages,
    replies,
    reply_for,
    rules_toml,
)
from store_kit import on_both_backends


@on_both_backends
async def test_a_contact_gets_a_personal_reply_from_the_number_they_texted(e2e: Harness) -> None:
    async with e2e.running() as live:
        sent = await live.text("Are you in the office tomorrow?", sender=CHARLIE, to=ALEX)
        outcome = await live.outcome(sent)
        outbox, membership = live.service.outbox, live.service.membership
    # replicas (PostgreSQL): the reply passed the membership's fence (its heartbeat fresh: no
    # question to the database); alone (SQLite): no fence at all
    assert (membership is None) == (not live.store.shared)
    assert outbox.fence == (None if membership is None else membership.fence)
    assert (outcome.action, outcome.reason) == ("reply", "replied")
    assert outcome.reply is not None and outcome.reply.state == "sent"
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]
    [entry] = await asyncio.to_thread(cli_messages, e2e.data_dir, 50, e2e.database_url)
    assert {k: entry[k] for k in ("messageId", "extensionId", "from", "fromName", "to", "text")} == {
        "messageId": sent.message_id,
        "extensionId": ALEX_EXT,
        "from": CHARLIE,
        "fromName": "Charlie Williams",
        "to": ALEX,
        "text": "Are you in the office tomorrow?",
    }
    assert (
        entry["decision"]["action"],
        entry["decision"]["reason"],
        entry["replyState"],
        entry["state"],
    ) == (
        "reply",
        "replied",
        "sent",
        "done",
    )


async def test_the_reply_comes_from_the_owners_other_number_when_that_one_was_texted(
    e2e: Harness,
) -> None:
    async with e2e.running() as live:
        outcome = await live.outcome(await live.text("Support question", sender=DANA, to=ALEX_SUPPORT))
    assert (outcome.reason, outcome.reply_from, outcome.reply_to) == ("replied", ALEX_SUPPORT, DANA)
    assert await replies(e2e.http, DANA) == [(ALEX_SUPPORT, reply_for("Dana"))]


async def test_audience_everyone_greets_a_stranger_by_the_name_the_platform_gives(e2e: Harness) -> None:
    async with e2e.running(rules_toml(audience="everyone")) as live:
        named = await live.text("Hello there", sender=STRANGER, from_name="Jordan Reyes")
        anonymous = await live.text("Hello there", sender=STRANGER2)
        assert await live.reasons(named, anonymous) == ["replied", "replied"]
    assert await replies(e2e.http, STRANGER) == [(ALEX, reply_for("Jordan"))]
    assert await replies(e2e.http, STRANGER2) == [(ALEX, reply_for(None))]  # "Hi," — no stray space


async def test_the_allowlist_counts_as_the_address_book(e2e: Harness) -> None:
    """The allowlist is a rule, applied by the decision: the address book itself does not know
    the allowlisted stranger, and the decision record still says "counted as a contact"."""
    async with e2e.running(rules_toml(audience="contacts", allowlist=["(415) 555-0199"])) as live:
        allowed = await live.text("Hi, it's me", sender=STRANGER)
        other = await live.text("Hi, it's me", sender=STRANGER2)
        assert await live.reasons(allowed, other) == ["replied", "not-a-contact"]
        assert live.service.books[ALEX_EXT].lookup(STRANGER) is None
        counted = [await contact_fact(live, sent) for sent in (allowed, other)]
    assert counted == [True, False]
    assert await replies(e2e.http, STRANGER) == [(ALEX, reply_for(None))]
    assert await replies(e2e.http, STRANGER2) == []


async def contact_fact(live: Live, sent: Sent) -> object:
    decision = await live.store.decision((await live.stored(sent)).pk)
    assert decision is not None
    return decision.facts["is_contact"]


async def test_the_address_book_name_wins_over_the_name_the_platform_sends(e2e: Harness) -> None:
    async with e2e.running(rules_toml(audience="everyone")) as live:
        outcome = await live.outcome(await live.text("Hey it's Chuck", sender=CHARLIE, from_name="Chuck W"))
    assert outcome.reason == "replied"
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]


async def test_names_are_fitted_to_gsm7_and_typographic_punctuation_transliterated(e2e: Harness) -> None:
    rules = rules_toml(
        audience="everyone", message="Auto-reply: Hi {first_name}, I’m away — back {return_date}…"
    )
    async with e2e.running(rules) as live:
        zoe = await live.text("Hi", sender=STRANGER, from_name="Zoë Martin")
        jose = await live.text("Hi", sender=STRANGER2, from_name="José Ruiz")
        assert await live.reasons(zoe, jose) == ["replied", "replied"]
    assert await replies(e2e.http, STRANGER) == [
        (ALEX, "Auto-reply: Hi Zoe, I'm away - back Monday, January 4...")
    ]
    assert await replies(e2e.http, STRANGER2) == [
        (ALEX, "Auto-reply: Hi José, I'm away - back Monday, January 4...")
    ]


async def test_a_message_that_needs_ucs2_is_warned_about_at_start_and_still_sent(
    e2e: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="rcinbox")
    rules = rules_toml(message="Auto-reply: Hi {first_name}, I'm on the beach 🌴 until {return_date}.")
    async with e2e.running(rules) as live:
        outcome = await live.outcome(await live.text("Hi", sender=CHARLIE))
    budget = [r.getMessage() for r in caplog.records if getattr(r, "action", None) == "rules.budget"]
    assert budget == [
        "vacation.message needs UCS-2 because of 🌴 (U+1F334): one segment then holds only 70 characters",
        "vacation.message is 72 characters (UCS-2) with a long name (Christopher Richardson-Whitfield): "
        "2 segments per reply; keep it within 70 to send one",
    ]
    assert outcome.reason == "replied"
    assert await replies(e2e.http, CHARLIE) == [
        (ALEX, "Auto-reply: Hi Charlie, I'm on the beach 🌴 until Monday, January 4.")
    ]
