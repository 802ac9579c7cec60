"""The live feed: publishing never blocks or fails, a slow client loses its oldest entries (never
the pipeline's time), a closed publisher ends every stream, a stream shows one extension's."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from rcinbox.dashboard.live import QUEUE_SIZE, RECENT, Activity, Publisher, TooManySubscribers, stream

AT = datetime(2026, 12, 21, 15, 0, tzinfo=UTC)


def activity(n: int, ext: str = "101") -> Activity:
    return Activity("received", ext, AT, "+14155550100", f"text {n}")


def test_a_stalled_client_keeps_only_the_newest_and_publishing_never_waits() -> None:
    publisher = Publisher()
    stalled = publisher.subscribe()
    for n in range(QUEUE_SIZE + 30):
        publisher.publish(activity(n))
    assert len(stalled.queue) == QUEUE_SIZE and stalled.dropped == 30
    assert stalled.queue[0].text == "text 30"
    assert [a.text for a in publisher.recent][-1] == f"text {QUEUE_SIZE + 29}" and len(
        publisher.recent
    ) == RECENT


def test_subscribers_are_bounded_and_leave() -> None:
    publisher = Publisher(max_subscribers=2)
    one = publisher.subscribe()
    publisher.subscribe()
    with pytest.raises(TooManySubscribers):
        publisher.subscribe()
    publisher.unsubscribe(one)
    publisher.subscribe()
    assert publisher.subscribers == 2


async def test_a_stream_sends_its_extensions_activities_as_events_and_ends_at_close() -> None:
    publisher = Publisher()
    subscriber = publisher.subscribe()
    lines = stream(subscriber, only="101", keepalive=30)
    assert await anext(lines) == "retry: 3000\n\n"
    publisher.publish(activity(1, ext="102"))
    publisher.publish(activity(2, ext="101"))
    event = await asyncio.wait_for(anext(lines), 5)
    assert event.startswith("event: activity\ndata: ")
    data = json.loads(event.split("data: ", 1)[1])
    assert data == {
        "kind": "received",
        "extension_id": "101",
        "at": AT.isoformat(),
        "counterpart": "+14155550100",
        "text": "text 2",
        "detail": "",
    }
    publisher.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(lines), 5)


async def test_a_quiet_stream_sends_keep_alives() -> None:
    publisher = Publisher()
    lines = stream(publisher.subscribe(), keepalive=0.01)
    await anext(lines)
    assert await asyncio.wait_for(anext(lines), 5) == ": keep-alive\n\n"
