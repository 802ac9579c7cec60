"""Smart replies end to end, over both transports: the whole service against the emulator, with
the real classifiers (``builtin`` by default; the urgent case also with ``embeddings``) and the
real decision."""

from __future__ import annotations

import pytest
from e2e_kit import (
    ALEX,
    BACKUP,
    CHARLIE,
    Harness,
    Live,
    Sent,
    outbound,
    replies,
    reply_for,
    rules_toml,
)

from rcinbox.store import OutboxRow

URGENT = "Auto-reply: Hi {first_name}, I'm away. Urgent? Call Sam at {backup_number}."
BOOKING = "Auto-reply: Hi {first_name}, I'm away. To book or move a meeting: https://cal.example.com/alex"
SMART = f"""
[smart]
enabled = true
[smart.replies]
urgent = "{URGENT}"
appointment = "{BOOKING}"
thanks = ""
[smart.escalate]
to = "{BACKUP}"
"""


@pytest.fixture
def smart(e2e: Harness) -> Harness:
    e2e.write_rules(rules_toml() + SMART)
    return e2e


def urgent_for(first_name: str) -> str:
    return f"Auto-reply: Hi {first_name}, I'm away. Urgent? Call Sam at {BACKUP}."


async def escalation(live: Live, sent: Sent) -> OutboxRow | None:
    """The message's escalation once the outbox is done with it (None: there is none)."""
    pk = (await live.stored(sent)).pk
    store = live.store

    async def finished() -> bool:
        row = await store.outbox.for_message(pk, "escalation")
        return row is None or row.state not in ("queued", "sending")

    await live.service.outbox.changes.until(finished, 10.0)
    return await store.outbox.for_message(pk, "escalation")


@pytest.mark.parametrize("classifier", ["builtin", "embeddings"])
async def test_an_urgent_text_gets_the_urgent_reply_and_one_escalation(
    smart: Harness, classifier: str
) -> None:
    smart.write_rules(rules_toml() + SMART.replace("[smart]", f'[smart]\nclassifier = "{classifier}"'))
    async with smart.running() as live:
        first = await live.text("URGENT - my card was stolen, call me", sender=CHARLIE)
        outcome = await live.outcome(first)
        escalated = await escalation(live, first)
        again = await live.text("urgent!! are you there?", sender=CHARLIE)
        second = await live.outcome(again)
        not_again = await escalation(live, again)
    assert (outcome.action, outcome.reason, outcome.intent) == ("reply", "replied", "urgent")
    assert await replies(smart.http, CHARLIE) == [(ALEX, urgent_for("Charlie"))]
    assert escalated is not None and escalated.state == "sent"
    (forwarded,) = await outbound(smart.http, BACKUP)
    assert forwarded["from"] == ALEX and CHARLIE in forwarded["text"]
    assert "stolen" not in forwarded["text"] and "card" not in forwarded["text"]  # never quoted
    assert (second.reason, not_again) == ("already-replied", None)  # once per sender per window
    assert len(await outbound(smart.http, BACKUP)) == 1


async def test_an_appointment_text_gets_the_booking_reply(smart: Harness) -> None:
    async with smart.running() as live:
        outcome = await live.outcome(await live.text("Can we move Tuesday's meeting?", sender=CHARLIE))
    assert (outcome.reason, outcome.intent) == ("replied", "appointment")
    assert await replies(smart.http, CHARLIE) == [
        (ALEX, "Auto-reply: Hi Charlie, I'm away. To book or move a meeting: https://cal.example.com/alex")
    ]
    assert await outbound(smart.http, BACKUP) == []


async def test_thanks_gets_no_reply(smart: Harness) -> None:
    async with smart.running() as live:
        outcome = await live.outcome(await live.text("thanks!", sender=CHARLIE))
    assert (outcome.action, outcome.reason, outcome.intent, outcome.reply) == (
        "suppress",
        "no-reply-needed",
        "thanks",
        None,
    )
    assert await outbound(smart.http) == []


async def test_a_fuzzy_opt_out_silences_the_sender_until_start(smart: Harness) -> None:
    async with smart.running() as live:
        opt_out = await live.outcome(await live.text("pls stop texting me", sender=CHARLIE))
        silenced = await live.outcome(await live.text("urgent, call me", sender=CHARLIE))
        start = await live.outcome(await live.text("START", sender=CHARLIE))
        back = await live.outcome(await live.text("hello again", sender=CHARLIE))
    assert (opt_out.action, opt_out.reason, silenced.reason, start.action, back.reason) == (
        "opt-out",
        "opt-out-phrase",
        "opted-out",
        "opt-in",
        "replied",
    )
    assert await replies(smart.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]
    assert await outbound(smart.http, BACKUP) == []  # an opted-out sender is not escalated either


async def test_a_vacation_replied_contact_gets_the_urgent_reply_once(smart: Harness) -> None:
    async with smart.running() as live:
        reasons = await live.reasons(
            await live.text("hello again", sender=CHARLIE),
            await live.text("URGENT: call me please", sender=CHARLIE),
            await live.text("urgent!!!", sender=CHARLIE),
        )
    assert reasons == ["replied", "replied", "already-replied"]
    assert await replies(smart.http, CHARLIE) == [(ALEX, reply_for("Charlie")), (ALEX, urgent_for("Charlie"))]
