"""The vacation window: ``start <= now < end`` with local times in the rules' time zone, compared
as instants (the service's clock is set to exact UTC instants); the return date as the sender
reads it, in the rules' time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from e2e_kit import ALEX, CHARLIE, Harness, Live, replies, reply_for, rules_toml

MS = timedelta(milliseconds=1)
# The default rules: 2026-12-20T00:00 to 2027-01-04T08:00 in America/New_York (UTC-5 in winter).
START = datetime(2026, 12, 20, 5, 0, tzinfo=UTC)
END = datetime(2027, 1, 4, 13, 0, tzinfo=UTC)


async def reasons_at(live: Live, instants: list[datetime]) -> list[str]:
    """Text once at each instant, each time from a new sender (no repeat rule in the way)."""
    found = []
    for i, instant in enumerate(instants):
        live.clock.set(instant)
        sent = await live.text("Are you in?", sender=f"+1415555{200 + i:04d}")
        found.append((await live.outcome(sent)).reason)
    return found


async def test_window_edges_start_inclusive_end_exclusive(e2e: Harness) -> None:
    instants = [
        datetime(2026, 12, 1, 12, 0, tzinfo=UTC),  # weeks before
        START - MS,  # 2026-12-19 23:59:59.999 in New York, although already Dec 20 in UTC
        START,  # exactly at start: inside
        END - MS,  # the last millisecond: inside
        END,  # exactly at end: outside (the first moment you are back)
        datetime(2027, 2, 1, 12, 0, tzinfo=UTC),  # weeks after
    ]
    async with e2e.running(rules_toml(audience="everyone")) as live:
        reasons = await reasons_at(live, instants)
    assert reasons == [
        "outside-window",
        "outside-window",
        "replied",
        "replied",
        "outside-window",
        "outside-window",
    ]
    sent = [r for i in range(len(instants)) for r in await replies(e2e.http, f"+1415555{200 + i:04d}")]
    assert sent == [(ALEX, reply_for(None))] * 2


async def test_the_same_local_times_in_utc_make_another_window(e2e: Harness) -> None:
    async with e2e.running(rules_toml(audience="everyone", timezone="UTC")) as live:
        reasons = await reasons_at(
            live, [datetime(2026, 12, 20, 0, 0, tzinfo=UTC) - MS, START - MS, END - MS]
        )
    # 04:59:59.999 UTC on Dec 20 is outside the New York window but inside the UTC one; the UTC
    # window ends at 08:00 UTC, so 12:59 UTC on Jan 4 is already outside.
    assert reasons == ["outside-window", "replied", "outside-window"]


async def test_summer_time_and_a_zone_ahead_of_utc(e2e: Harness) -> None:
    summer = rules_toml(start="2026-07-01T09:00:00", end="2026-07-10T17:00:00", audience="everyone")
    async with e2e.running(summer) as live:  # New York is UTC-4 in July
        edt = await reasons_at(
            live, [datetime(2026, 7, 1, 13, 0, tzinfo=UTC) - MS, datetime(2026, 7, 1, 13, 0, tzinfo=UTC)]
        )
    tokyo = rules_toml(
        start="2026-12-20T00:00:00", end="2027-01-04T08:00:00", timezone="Asia/Tokyo", audience="everyone"
    )
    async with e2e.running(tokyo) as live:  # Dec 20 00:00 in Tokyo is Dec 19 15:00 UTC
        jst = await reasons_at(
            live, [datetime(2026, 12, 19, 15, 0, tzinfo=UTC) - MS, datetime(2026, 12, 19, 15, 0, tzinfo=UTC)]
        )
    assert (edt, jst) == (["outside-window", "replied"], ["outside-window", "replied"])


async def test_the_return_date_is_the_local_date_of_the_end(e2e: Harness) -> None:
    rules = rules_toml(
        end="2027-01-04T23:30:00",  # Jan 5 07:30 UTC
        timezone="America/Los_Angeles",
        message="Auto-reply: Hi {first_name}, back {return_date} at {return_time}.",
    )
    async with e2e.running(rules) as live:
        outcome = await live.outcome(await live.text("When are you back?", sender=CHARLIE))
    assert outcome.reason == "replied"
    assert await replies(e2e.http, CHARLIE) == [
        (ALEX, "Auto-reply: Hi Charlie, back Monday, January 4 at 11:30 PM.")
    ]


async def test_a_window_across_the_spring_change_keeps_its_local_edges(e2e: Harness) -> None:
    # New York springs forward on 2027-03-14: the window opens at 09:00 EST (14:00 UTC) and closes
    # at 17:00 EDT (21:00 UTC), not at 22:00 UTC as the start's offset would have it.
    rules = rules_toml(
        start="2027-03-10T09:00:00",
        end="2027-03-20T17:00:00",
        audience="everyone",
        message="Auto-reply: Hi {first_name}, back {return_date} at {return_time}.",
    )
    opens, closes = datetime(2027, 3, 10, 14, 0, tzinfo=UTC), datetime(2027, 3, 20, 21, 0, tzinfo=UTC)
    async with e2e.running(rules) as live:
        reasons = await reasons_at(
            live, [opens - MS, opens, closes - MS, closes, closes + timedelta(minutes=30)]
        )
    assert reasons == ["outside-window", "replied", "replied", "outside-window", "outside-window"]
    assert await replies(e2e.http, "+14155550201") == [
        (ALEX, "Auto-reply: Hi, back Saturday, March 20 at 5:00 PM.")
    ]


async def test_an_end_in_the_repeated_autumn_hour_is_its_first_occurrence(e2e: Harness) -> None:
    # 2026-11-01 01:30 happens twice in New York: 05:30 UTC (EDT), then 06:30 UTC (EST).
    rules = rules_toml(start="2026-10-25T00:00:00", end="2026-11-01T01:30:00", audience="everyone")
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    async with e2e.running(rules) as live:
        reasons = await reasons_at(live, [first - MS, first, datetime(2026, 11, 1, 6, 0, tzinfo=UTC)])
    assert reasons == ["replied", "outside-window", "outside-window"]
