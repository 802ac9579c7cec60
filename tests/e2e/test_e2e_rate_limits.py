"""A burst of replies under a tight rate limit: the service paces its sends from the
``X-Rate-Limit-*`` headers, so every reply goes out and the platform never answers 429."""

from __future__ import annotations

import pytest
from e2e_kit import ALEX, CHARLIE, DANA, STRANGER, STRANGER2, Harness, outbound, reply_for, rules_toml

SENDERS = [f"+1415555{400 + i:04d}" for i in range(8)]


async def test_a_burst_of_replies_gets_no_429(e2e: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="rcinbox")
    e2e.clock.flow()  # the platform's 2 s windows pass (the date stays inside the vacation)
    # SMS sends are in the Medium group: 3 per 2 s here, 8 replies to send at once.
    await e2e.faults({"rateLimits": {"Medium": 3, "window": 2, "penalty": 5}})
    async with e2e.running(rules_toml(audience="everyone")) as live:
        texts = [await live.text("Are you there?", sender=s) for s in SENDERS]
        outcomes = [await live.outcome(t, within=30) for t in texts]
    answers = [r.getMessage() for r in caplog.records if r.name == "rcinbox.emulator"]
    sends = [a for a in answers if a.startswith("HTTP POST") and a.split()[2].endswith("/sms")]
    assert [o.reason for o in outcomes] == ["replied"] * len(SENDERS)
    assert [o.reply.state if o.reply else None for o in outcomes] == ["sent"] * len(SENDERS)
    assert sorted((r["from"], r["to"][0], r["text"]) for r in await outbound(e2e.http)) == [
        (ALEX, s, reply_for(None)) for s in SENDERS
    ]
    assert len(sends) == len(SENDERS) and all(" -> 200 " in a for a in sends), sends
    assert [a for a in answers if " -> 429 " in a] == []


async def test_the_address_book_is_synced_not_looked_up_per_message(
    e2e: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="rcinbox")
    async with e2e.running(rules_toml(audience="contacts")) as live:
        texts = [await live.text("Hi Alex", sender=s) for s in (CHARLIE, DANA, STRANGER, CHARLIE, STRANGER2)]
        reasons = await live.reasons(*texts)
    requests = [r.getMessage().split()[2] for r in caplog.records if r.name == "rcinbox.emulator"]
    book = [path for path in requests if "/address-book" in path]
    assert reasons == ["replied", "replied", "not-a-contact", "already-replied", "not-a-contact"]
    assert len(book) == 1 and book[0].endswith("/address-book-sync"), book  # one Heavy request in all


async def test_without_rate_limit_headers_the_assumed_limits_are_said_once(
    e2e: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="rcinbox")
    await e2e.faults({"rateLimits": {"enabled": False}})  # answers carry no X-Rate-Limit-* headers
    async with e2e.running(rules_toml(audience="everyone")) as live:
        texts = [await live.text("Are you there?", sender=s) for s in SENDERS[:3]]
        outcomes = [await live.outcome(t, within=30) for t in texts]
    assert [o.reply.state if o.reply else None for o in outcomes] == ["sent"] * 3
    assumed = [r.getMessage() for r in caplog.records if getattr(r, "action", None) == "pacing.assumed"]
    medium = "Medium: no rate-limit headers from the platform; assuming 40 requests per 60 s"
    assert assumed.count(medium) == 1, assumed
    assert len(assumed) == len(set(assumed)), assumed  # each group once
