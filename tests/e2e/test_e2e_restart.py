"""Restarts: whatever point the service is stopped or killed at after the platform's notification
was acknowledged, the message is decided and answered after the restart, exactly once; a text
that arrived while it was down is caught up (message-sync) and answered, unless hours late; an
opt-out is durable.

The stop/kill tests run on real time (their clock can be pushed forward, never back); the emulator
shares the harness's clock, so its message store, which the outbox reconciles against after a
crash, keeps the same time."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from e2e_kit import (
    ALEX,
    ALEX_EXT,
    CHARLIE,
    WITHIN,
    Harness,
    Live,
    Sent,
    cli_messages,
    outbound,
    replies,
    reply_for,
    rules_around_now,
)
from store_kit import on_both_backends

from rcinbox.emulator.runner import Running
from rcinbox.platform.retry import Fence
from rcinbox.store import OutboxRow
from rcinbox.wire import MessageRecord

SMS = "/restapi/v1.0/account/*/extension/*/sms"
REPLY = "Auto-reply: Hi Charlie, I'm away this month."

pytestmark = on_both_backends  # the PostgreSQL end-to-end subset (docs/architecture.md)


async def until_failed_once(live: Live, sent: Sent) -> None:
    """Wait until processing the message failed once (it stays pending, retried later)."""

    async def failed() -> bool:
        stored = await live.store.find_message(sent.extension_id, sent.message_id)
        return stored is not None and stored.last_error is not None

    await live.service.pipeline.changes.until(failed, WITHIN)


async def until_reply_attempted(live: Live, sent: Sent) -> OutboxRow:
    """Wait until the outbox tried to send the reply and the platform refused it."""

    async def attempted() -> bool:
        stored = await live.store.find_message(sent.extension_id, sent.message_id)
        row = None if stored is None else await live.store.outbox.for_message(stored.pk)
        return row is not None and row.last_error is not None

    await live.service.outbox.changes.until(attempted, WITHIN)
    return await live.reply_row(sent)


async def until_fault_hit(emu: Running, initial: int) -> None:
    """Until the first injected HTTP fault has answered at least once (the emulator signals each)."""
    faults = emu.emulator.faults
    await faults.served.until(lambda: bool(faults.http) and faults.http[0].remaining < initial, WITHIN)


async def test_stopped_while_the_reply_waits_for_a_retry_replies_once_after_restart(e2e: Harness) -> None:
    e2e.clock.fixed = None
    async with e2e.running(rules_around_now()) as live:
        await e2e.faults({"http": [{"method": "POST", "path": SMS, "status": 500, "count": 100}]})
        sent = await live.text("Are you there?", sender=CHARLIE)
        row = await until_reply_attempted(live, sent)
    # Stopped: the message was acknowledged, decided, and its reply is still owed.
    assert (row.state, row.attempts, row.platform_message_id) == ("sending", 1, None)
    assert await outbound(e2e.http) == []
    await e2e.clear_faults()
    e2e.clock.advance(timedelta(minutes=10))  # the retry is due (and the reply not yet expired)
    async with e2e.running() as live:
        outcome = await live.outcome(sent)
    assert outcome.reply is not None and (outcome.reply.state, outcome.reply.attempts) == ("sent", 2)
    assert await replies(e2e.http, CHARLIE) == [(ALEX, REPLY)]
    [entry] = await asyncio.to_thread(cli_messages, e2e.data_dir, 50, e2e.database_url)
    assert (
        entry["messageId"],
        entry["decision"]["action"],
        entry["decision"]["reason"],
        entry["replyState"],
    ) == (
        sent.message_id,
        "reply",
        "replied",
        "sent",
    )


async def test_killed_while_the_platform_refuses_the_reply_replies_once_after_restart(
    e2e: Harness,
) -> None:
    e2e.clock.fixed = None
    async with e2e.crashing(rules_around_now()) as live:
        await e2e.faults({"http": [{"method": "POST", "path": SMS, "status": 503, "count": 100}]})
        sent = await live.text("Are you there?", sender=CHARLIE)
        await until_fault_hit(e2e.emu, 100)
        await live.crash()  # mid-send: the row was claimed, the send is being retried
        row = await live.reply_row(sent)
    assert (row.state, row.platform_message_id) == ("sending", None)
    assert await outbound(e2e.http) == []
    await e2e.clear_faults()
    async with e2e.running() as live:
        outcome = await live.outcome(sent)
    assert outcome.reply is not None and outcome.reply.state == "sent"
    assert await replies(e2e.http, CHARLIE) == [(ALEX, REPLY)]


class AcceptedThenCrash:
    """The platform client, except that the process dies right after the platform accepted an
    SMS and before rcinbox could record it as sent."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.accepted = asyncio.Event()

    async def send_sms(
        self, from_number: str, to_number: str, text: str, ext: str = "~", *, fence: Fence | None = None
    ) -> MessageRecord:
        await self.real.send_sms(from_number, to_number, text, ext, fence=fence)
        self.accepted.set()
        await asyncio.Event().wait()  # killed here
        raise AssertionError("unreachable")

    async def list_messages(self, ext: str = "~", **filters: Any) -> tuple[MessageRecord, ...]:
        records: tuple[MessageRecord, ...] = await self.real.list_messages(ext, **filters)
        return records


async def test_killed_after_the_platform_accepted_the_reply_sends_no_second_one(e2e: Harness) -> None:
    e2e.clock.fixed = None
    async with e2e.crashing(rules_around_now()) as live:
        client = live.service.outbox.client = AcceptedThenCrash(live.service.outbox.client)
        sent = await live.text("Are you there?", sender=CHARLIE)
        await asyncio.wait_for(client.accepted.wait(), WITHIN)
        await live.crash()
        row = await live.reply_row(sent)
    assert (row.state, row.platform_message_id) == ("sending", None)  # the outcome is unknown
    [platform_reply] = await outbound(e2e.http, CHARLIE)
    async with e2e.running() as live:
        outcome = await live.outcome(sent)
    assert outcome.reply is not None
    assert (outcome.reply.state, outcome.reply.platform_message_id) == ("sent", str(platform_reply["id"]))
    assert await replies(e2e.http, CHARLIE) == [(ALEX, REPLY)]


async def test_stopped_before_the_decision_decides_and_replies_after_restart(e2e: Harness) -> None:
    e2e.clock.fixed = None
    async with e2e.running(rules_around_now()) as live:
        phone_numbers = "/restapi/v1.0/account/*/extension/*/phone-number"
        fault = {"method": "GET", "path": phone_numbers, "status": 429, "count": 100, "retryAfter": 3600}
        await e2e.faults({"http": [fault]})
        sent = await live.text("Are you there?", sender=CHARLIE)
        await until_failed_once(live, sent)
        stored = await live.stored(sent)
        decision = await live.store.decision(stored.pk)
    # no attachments: it stays "received" until its decision (no separate "archived" step)
    assert (stored.state, stored.text, decision) == ("received", "Are you there?", None)
    assert stored.last_error is not None and "RateLimited" in stored.last_error
    await e2e.clear_faults()
    e2e.clock.advance(timedelta(hours=2))  # the rate limit's hour is over
    async with e2e.running() as live:
        outcome = await live.outcome(sent, retried=True)
        entries = await live.store.recent()
    assert (outcome.reason, [e.message_id for e in entries]) == ("replied", [sent.message_id])
    assert await replies(e2e.http, CHARLIE) == [(ALEX, REPLY)]


async def test_an_opt_out_survives_a_restart(e2e: Harness) -> None:
    async with e2e.running() as live:
        stop = await live.outcome(await live.text("STOP", sender=CHARLIE))
    async with e2e.running() as live:
        later = await live.outcome(await live.text("Are you there?", sender=CHARLIE))
    assert (stop.action, later.reason) == ("opt-out", "opted-out")
    assert await replies(e2e.http, CHARLIE) == []


async def test_a_text_that_came_while_the_service_was_down_is_caught_up_and_answered(e2e: Harness) -> None:
    async with e2e.running():
        pass  # subscribed once, then stopped
    missed = await _text_while_down(e2e, "Are you there?")
    async with e2e.running() as live:  # the start-up message-sync finds it
        outcome = await live.outcome(missed)
        stored = await live.stored(missed)
    assert (outcome.reason, stored.source, stored.text) == ("replied", "sync", "Are you there?")
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]


async def test_a_text_caught_up_hours_late_is_archived_but_not_answered(e2e: Harness) -> None:
    async with e2e.running():
        pass
    late = await _text_while_down(e2e, "Call me back please")
    e2e.clock.advance(timedelta(hours=2))  # the service starts again two hours after the text
    async with e2e.running() as live:
        outcome = await live.outcome(late)
        stored = await live.stored(late)
    assert (outcome.action, outcome.reason, stored.source) == ("suppress", "too-old", "sync")
    assert await replies(e2e.http, CHARLIE) == []


async def _text_while_down(e2e: Harness, text: str) -> Sent:
    response = await e2e.http.post("/_emulator/inbound", json={"from": CHARLIE, "to": ALEX, "text": text})
    assert response.status_code == 200, response.text
    return Sent(response.json()["messageId"], ALEX_EXT)
