"""Several sends in flight: sends to different counterparts overlap, up to the limit per
extension; two to the same counterpart go one after the other, in order; extensions never wait
for each other; and no row is ever sent twice (a lease running out while it flies, two senders on
one database). The platform holds every send until the test lets it answer: no sleeps."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from outbox_kit import FAST, queue_reply, state
from pipeline_fakes import EXT, FakePlatform

from rcinbox.clock import FakeClock
from rcinbox.service.outbox import Outbox, OutboxOptions
from rcinbox.service.senders import Senders
from rcinbox.store import OutboxRow, Store
from rcinbox.waiting import Changes
from rcinbox.wire import MessageRecord

OTHER_EXT = "62264425017"
OTHER_OWNER = "+16505550102"


def counterpart(n: int) -> str:
    return f"+1415555{n:04d}"


class HeldPlatform(FakePlatform):
    """Every send waits at the platform until :meth:`answer` lets it through."""

    def __init__(self) -> None:
        super().__init__()
        self.started: list[tuple[str, str]] = []  # (counterpart, text) in the order sends arrived
        self.held: list[tuple[str, asyncio.Event]] = []
        self.flying = 0
        self.most_flying = 0
        self.changes = Changes()

    async def send_sms(self, from_number: str, to_number: str, text: str, ext: str = "~") -> MessageRecord:
        gate = asyncio.Event()
        self.started.append((to_number, text))
        self.held.append((to_number, gate))
        self.flying += 1
        self.most_flying = max(self.most_flying, self.flying)
        self.changes.notify()
        try:
            await gate.wait()
        finally:
            self.flying -= 1
        return await super().send_sms(from_number, to_number, text, ext)

    def answer(self, to: str | None = None) -> None:
        """Let the oldest held send (to ``to``, if given) through."""
        for number, gate in self.held:
            if not gate.is_set() and (to is None or number == to):
                gate.set()
                return
        raise AssertionError(f"no send to {to} is held")

    async def until(self, started: int) -> None:
        async def there() -> bool:
            return len(self.started) >= started

        await self.changes.until(there, 5)


class Running:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Running:
        self.task = asyncio.create_task(self.outbox.run(self.stop))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 5)

    async def sent(self, store: Store, *rows: OutboxRow) -> None:
        async def all_sent() -> bool:
            return [(await state(store, row))[0] for row in rows] == ["sent"] * len(rows)

        await self.outbox.changes.until(all_sent, 5)


async def test_sends_to_different_counterparts_are_in_flight_together(store: Store) -> None:
    platform = HeldPlatform()
    rows = [await queue_reply(store, str(n), to=counterpart(n)) for n in range(5)]
    async with Running(Outbox(store, platform, options=FAST)) as running:
        await platform.until(started=5)  # all five at the platform at once
        for _ in rows:
            platform.answer()
        await running.sent(store, *rows)
    assert platform.most_flying == 5
    states = [await state(store, row) for row in rows]
    assert [s[:2] for s in states] == [("sent", 1)] * 5
    assert sorted(s[2] or "" for s in states) == [str(9000 + n) for n in range(5)]


async def test_at_most_the_limit_per_extension_is_in_flight(store: Store) -> None:
    platform = HeldPlatform()
    rows = [await queue_reply(store, str(n), to=counterpart(n)) for n in range(5)]
    options = OutboxOptions(retry=FAST.retry, in_flight=2)
    async with Running(Outbox(store, platform, options=options)) as running:
        for started in range(2, 6):
            await platform.until(started)  # the next one starts only when one of the two ends
            platform.answer()
        platform.answer()
        await running.sent(store, *rows)
    assert platform.most_flying == 2
    assert [to for to, _ in platform.started] == [counterpart(n) for n in range(5)]


async def test_texts_to_the_same_counterpart_go_one_at_a_time_in_order(store: Store) -> None:
    platform = HeldPlatform()
    same = [await queue_reply(store, str(n), to=counterpart(1), text=f"reply {n}") for n in range(3)]
    other = await queue_reply(store, "9", to=counterpart(2), text="to someone else")
    async with Running(Outbox(store, platform, options=FAST)) as running:
        await platform.until(started=2)  # the first to counterpart 1 and the one to counterpart 2
        assert platform.started == [(counterpart(1), "reply 0"), (counterpart(2), "to someone else")]
        platform.answer(counterpart(2))
        await running.sent(store, other)
        for n in range(3):
            assert [text for to, text in platform.started if to == counterpart(1)] == [
                f"reply {k}" for k in range(n + 1)
            ]
            platform.answer(counterpart(1))
            await running.sent(store, same[n])
            if n < 2:
                await platform.until(started=n + 3)
    assert platform.most_flying == 2


class Sender:
    """A client for one extension (its own session and budget)."""

    def __init__(self, platform: HeldPlatform) -> None:
        self.platform = platform

    async def send_sms(self, from_number: str, to_number: str, text: str, ext: str = "~") -> MessageRecord:
        return await self.platform.send_sms(from_number, to_number, text, ext)

    async def list_messages(self, ext: str = "~", **filters: Any) -> tuple[MessageRecord, ...]:
        return await self.platform.list_messages(ext, **filters)


async def test_one_extension_with_every_send_held_does_not_hold_up_another(store: Store) -> None:
    own, other = HeldPlatform(), HeldPlatform()
    held = [await queue_reply(store, str(n), to=counterpart(n)) for n in range(3)]
    free = await queue_reply(store, "7", to=counterpart(7), ext=OTHER_EXT, from_=OTHER_OWNER)
    senders = Senders(own=EXT, others={OTHER_EXT: Sender(other)})
    options = OutboxOptions(retry=FAST.retry, in_flight=2)
    async with Running(Outbox(store, own, options=options, senders=senders)) as running:
        await other.until(started=1)
        other.answer()
        await running.sent(store, free)  # while both of the first extension's sends are held
        assert own.flying == 2
        own.answer()
        await own.until(started=3)
        own.answer()
        own.answer()
        await running.sent(store, *held)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))


@pytest.fixture
async def timed(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path}/rcinbox.db", clock=clock) as opened:
        yield opened


async def test_a_send_in_flight_past_its_lease_is_not_sent_again(timed: Store, clock: FakeClock) -> None:
    platform = HeldPlatform()
    slow = await queue_reply(timed, "1", to=counterpart(1))
    outbox = Outbox(timed, platform, options=FAST)
    async with Running(outbox) as running:
        await platform.until(started=1)
        clock.advance(outbox.options.lease + timedelta(minutes=1))  # the claim ran out mid-flight
        later = await queue_reply(timed, "2", to=counterpart(2))
        outbox.wake()
        await platform.until(started=2)  # a round ran after the lease ran out
        assert [to for to, _ in platform.started] == [counterpart(1), counterpart(2)]
        platform.answer(counterpart(1))
        platform.answer(counterpart(2))
        await running.sent(timed, slow, later)
    assert platform.send_calls == 2
    assert await state(timed, slow) == ("sent", 1, "9000", None)


async def test_two_senders_on_one_database_send_each_reply_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/rcinbox.db"
    platform = FakePlatform()  # answers at once: the two senders race for every row
    async with await Store.open(url) as first, await Store.open(url) as second:
        rows = [await queue_reply(first, str(n), to=counterpart(n % 7)) for n in range(40)]
        replicas = OutboxOptions(retry=FAST.retry, recover_at_start=False)
        a, b = Outbox(first, platform, options=replicas), Outbox(second, platform, options=replicas)
        await asyncio.gather(a.drain(), b.drain())
        states = [await state(first, row) for row in rows]
    assert [s[:2] for s in states] == [("sent", 1)] * len(rows)
    sent = Counter((r["to"][0]["phoneNumber"], r["subject"]) for r in platform.sent)
    assert len(platform.sent) == len(rows) and set(sent.values()) == {6, 5}
