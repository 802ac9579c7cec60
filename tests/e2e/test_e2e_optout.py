"""Opt-out and opt-in keywords end to end: STOP & co. are recorded and silence every automated
text to that sender (with no confirmation from rcinbox), START/UNSTOP lift it, HELP gets no
vacation reply, and a sentence that merely contains a keyword is an ordinary message."""

from __future__ import annotations

from datetime import timedelta

from e2e_kit import ALEX, CHARLIE, DANA, Harness, outbound, replies, reply_for, rules_around_now

STOP_WORDS = [
    "STOP",
    "stop.",
    "Stop please",
    "STOPALL",
    "Unsubscribe",
    "cancel",
    "END",
    "quit!",
    "Revoke",
    "opt out",
    "Opt-Out",
]


async def test_stop_is_recorded_unanswered_and_silences_the_sender(e2e: Harness) -> None:
    async with e2e.running() as live:
        stop = await live.outcome(await live.text("STOP", sender=CHARLIE))
        after_stop = await outbound(e2e.http, CHARLIE)
        later = await live.outcome(await live.text("Are you there?", sender=CHARLIE))
        live.clock.advance(timedelta(days=30))  # no repeat interval brings replies back
        much_later = await live.outcome(await live.text("Hello?", sender=CHARLIE))
    assert (stop.action, stop.reason, stop.reply) == ("opt-out", "opt-out", None)
    assert after_stop == []  # no confirmation of rcinbox's own
    assert [later.action, later.reason, much_later.reason] == ["suppress", "opted-out", "opted-out"]
    assert await replies(e2e.http, CHARLIE) == []


async def test_every_opt_out_word_in_any_case_and_punctuation(e2e: Harness) -> None:
    senders = [f"+1415555{300 + i:04d}" for i in range(len(STOP_WORDS))]
    async with e2e.running() as live:
        actions = [
            (await live.outcome(await live.text(w, sender=s))).action
            for w, s in zip(STOP_WORDS, senders, strict=True)
        ]
        afterwards = [(await live.outcome(await live.text("Hi Alex", sender=s))).reason for s in senders]
    assert actions == ["opt-out"] * len(STOP_WORDS)
    assert afterwards == ["opted-out"] * len(STOP_WORDS)
    assert await outbound(e2e.http) == []


async def test_start_lifts_the_opt_out(e2e: Harness) -> None:
    async with e2e.running() as live:
        stop = await live.outcome(await live.text("Stop", sender=CHARLIE))
        start = await live.outcome(await live.text("START", sender=CHARLIE))
        after_start = await outbound(e2e.http, CHARLIE)
        text = await live.outcome(await live.text("Sorry, wrong button. Are you in?", sender=CHARLIE))
    assert [stop.action, start.action, start.reason, text.reason] == [
        "opt-out",
        "opt-in",
        "opt-in",
        "replied",
    ]
    assert after_start == []  # START is not answered either
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]


async def test_unstop_lifts_it_too(e2e: Harness) -> None:
    async with e2e.running() as live:
        reasons = await live.reasons(
            await live.text("STOP", sender=DANA),
            await live.text("unstop", sender=DANA),
            await live.text("Hi again", sender=DANA),
        )
    assert reasons == ["opt-out", "opt-in", "replied"]
    assert await replies(e2e.http, DANA) == [(ALEX, reply_for("Dana"))]


async def test_help_gets_no_vacation_reply_and_is_not_an_opt_out(e2e: Harness) -> None:
    async with e2e.running() as live:
        help_ = await live.outcome(await live.text("HELP", sender=CHARLIE))
        after_help = await outbound(e2e.http, CHARLIE)
        text = await live.outcome(await live.text("Are you in?", sender=CHARLIE))
    assert (help_.action, help_.reason, after_help) == ("suppress", "help-keyword", [])
    assert text.reason == "replied"
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]


async def test_cancel_my_appointment_is_not_an_opt_out(e2e: Harness) -> None:
    async with e2e.running() as live:
        cancel = await live.outcome(await live.text("Cancel my appointment", sender=CHARLIE))
        again = await live.outcome(await live.text("Can you stop by tomorrow?", sender=CHARLIE))
    assert (cancel.action, cancel.reason) == ("reply", "replied")
    assert again.reason == "already-replied"  # an ordinary message, not "opted-out"
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]


async def test_stop_after_the_reply_was_queued_cancels_it(e2e: Harness) -> None:
    e2e.clock.fixed = None  # real time: the outbox checks the platform's store before a retry
    sms = "/restapi/v1.0/account/*/extension/*/sms"
    async with e2e.running(rules_around_now()) as live:
        await e2e.faults({"http": [{"method": "POST", "path": sms, "status": 500, "count": 100}]})
        question = await live.text("Are you there?", sender=CHARLIE)
        await live.outcome(question, expect_reply=False)  # decided: reply, held back by the 500s
        stop = await live.outcome(await live.text("STOP", sender=CHARLIE))
        await e2e.clear_faults()
        live.clock.advance(timedelta(hours=1))  # the reply's retry is due
        live.service.outbox.wake()
        reply = await live.outcome(question)
    assert stop.action == "opt-out"
    assert reply.reply is not None and reply.reply.state == "failed"
    assert (reply.reply.last_error or "").startswith("opted-out")
    assert await outbound(e2e.http) == []
