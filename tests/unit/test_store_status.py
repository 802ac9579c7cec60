"""Today's counts for the status page: in the owner's time zone (its midnight, not UTC's), per
extension or all: texts received, replies sent, decisions suppressed per reason, opt-outs/-ins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from views_kit import DANA, EXT2, decide, opened, replied, send, suppressed, text_in

from rcinbox.clock import FakeClock
from rcinbox.store import Store
from rcinbox.store.status import day_bounds

NEW_YORK = ZoneInfo("America/New_York")
# 2026-11-27 03:00 UTC is still the 26th in New York (22:00): the New York day starts at 05:00 UTC
EVENING_BEFORE = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
MORNING = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(EVENING_BEFORE)


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    async with opened(store_url, clock) as store:
        yield store


def test_the_day_is_the_owners_and_spans_its_local_midnights() -> None:
    day, start, end = day_bounds(MORNING, NEW_YORK)
    assert (day, start.astimezone(UTC), end.astimezone(UTC)) == (
        date(2026, 11, 27),
        datetime(2026, 11, 27, 5, 0, tzinfo=UTC),
        datetime(2026, 11, 28, 5, 0, tzinfo=UTC),
    )
    _, start, end = day_bounds(datetime(2026, 11, 1, 12, 0, tzinfo=UTC), NEW_YORK)  # clocks go back
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25)


async def test_todays_counts_in_the_owners_time_zone_per_extension(store: Store, clock: FakeClock) -> None:
    yesterday = await text_in(store, "late last night")
    await decide(store, yesterday, suppressed("outside-window"))
    clock.advance((MORNING - EVENING_BEFORE).total_seconds())
    answered = await text_in(store, "hello")
    await decide(store, answered, replied())
    await send(store, answered)
    queued = await text_in(store, "hello again", sender=DANA)
    await decide(store, queued, replied(to=DANA))  # decided, not sent yet: not counted as replied
    for reason in ("already-replied", "not-a-contact", "not-a-contact"):
        pk = await text_in(store, reason, sender=DANA)
        await decide(store, pk, suppressed(reason))
    stop = await text_in(store, "STOP", ext=EXT2)
    await decide(store, stop, suppressed("opt-out", action="opt-out"))
    await text_in(store, "not decided yet", ext=EXT2)
    counts = await store.day_counts(NEW_YORK)
    assert counts.day == date(2026, 11, 27)
    assert (counts.received, counts.replied, counts.opted_out, counts.opted_in) == (7, 1, 1, 0)
    assert dict(counts.suppressed) == {"already-replied": 1, "not-a-contact": 2}
    assert counts.suppressed_total == 3
    other = await store.day_counts(NEW_YORK, extension_id=EXT2)
    assert (other.received, other.replied, other.opted_out, dict(other.suppressed)) == (2, 0, 1, {})
    in_utc = await store.day_counts(UTC)  # the UTC day began at 00:00: last night's text is in it
    assert (in_utc.received, in_utc.suppressed["outside-window"]) == (8, 1)
