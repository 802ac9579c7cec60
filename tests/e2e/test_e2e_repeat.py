"""Repeat interval (per sender, like Sieve's ``:handle``), "once" per vacation window, and the
loop fuse that caps automated texts per counterpart whatever the rules allow. The service's clock
is moved by hand between texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from e2e_kit import ALEX, CHARLIE, DANA, INSIDE, Harness, replies, reply_for, rules_toml
from store_kit import on_both_backends

pytestmark = on_both_backends  # the PostgreSQL end-to-end subset (docs/architecture.md)


async def test_one_reply_per_sender_within_repeat_after_and_again_after_it(e2e: Harness) -> None:
    async with e2e.running(rules_toml(repeat_after="7d")) as live:
        first = await live.outcome(await live.text("Are you there?", sender=CHARLIE))
        live.clock.advance(timedelta(days=7) - timedelta(seconds=1))
        again = await live.outcome(await live.text("Hello??", sender=CHARLIE))
        other = await live.outcome(await live.text("Hi Alex", sender=DANA))  # another sender: answered
        live.clock.advance(timedelta(seconds=1))  # exactly 7 days after the first reply
        later = await live.outcome(await live.text("Back yet?", sender=CHARLIE))
    assert [first.reason, again.reason, other.reason, later.reason] == [
        "replied",
        "already-replied",
        "replied",
        "replied",
    ]
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))] * 2
    assert await replies(e2e.http, DANA) == [(ALEX, reply_for("Dana"))]


async def test_once_means_once_per_vacation_window(e2e: Harness) -> None:
    async with e2e.running(rules_toml(repeat_after="once")) as live:
        first = await live.outcome(await live.text("Are you there?", sender=CHARLIE))
        live.clock.advance(timedelta(days=10))  # 2026-12-31: same window
        again = await live.outcome(await live.text("Still away?", sender=CHARLIE))
    assert (first.reason, again.reason) == ("replied", "already-replied")
    # The next vacation is a new window: one more reply.
    e2e.clock.set(datetime(2027, 2, 2, 15, 0, tzinfo=UTC))
    next_window = rules_toml(repeat_after="once", start="2027-02-01T00:00:00", end="2027-02-08T08:00:00")
    async with e2e.running(next_window) as live:
        third = await live.outcome(await live.text("Away again?", sender=CHARLIE))
    assert third.reason == "replied"
    assert [text for _, text in await replies(e2e.http, CHARLIE)] == [
        reply_for("Charlie"),
        reply_for("Charlie").replace("Monday, January 4", "Monday, February 8"),
    ]


async def test_the_loop_fuse_caps_automated_texts_whatever_repeat_after_allows(e2e: Harness) -> None:
    async with e2e.running(rules_toml(repeat_after="1h", loop_fuse="3/24h")) as live:
        reasons = []
        for hour in range(4):  # texts at T, T+1h, T+2h, T+3h
            live.clock.set(INSIDE + timedelta(hours=hour))
            reasons.append((await live.outcome(await live.text(f"ping {hour}", sender=CHARLIE))).reason)
        live.clock.set(INSIDE + timedelta(hours=24))  # the first reply is exactly 24 h old: still counted
        reasons.append((await live.outcome(await live.text("ping 24h", sender=CHARLIE))).reason)
        live.clock.set(INSIDE + timedelta(hours=24, seconds=1))  # now it has left the 24 h window
        reasons.append((await live.outcome(await live.text("ping 24h+1s", sender=CHARLIE))).reason)
    assert reasons == ["replied", "replied", "replied", "loop-fuse", "loop-fuse", "replied"]
    assert len(await replies(e2e.http, CHARLIE)) == 4
