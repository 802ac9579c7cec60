"""What a WebSocket connection received goes to the sink several at once (transports/storing.py):
a burst is handed over together, each message is handled only once stored, a refused one and
those after it are delivered again in order, and messages dropped unstored are reported."""

from __future__ import annotations

import asyncio

from pipeline_fakes import envelope

from rcinbox.events import InboundMessage
from rcinbox.transports.storing import Storing


def message(mid: str) -> InboundMessage:
    return InboundMessage.from_notification(envelope(message_id=mid), "websocket")


class Sink:
    """Counts the accepts in progress at once; refuses the messages in ``refuse`` once each."""

    def __init__(self) -> None:
        self.stored: list[str] = []
        self.running = 0
        self.most = 0
        self.refuse: set[str] = set()
        self.gate = asyncio.Event()
        self.gate.set()

    async def accept(self, msg: InboundMessage) -> bool:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(0)  # a real store suspends here: the others start meanwhile
            await self.gate.wait()
            if msg.message_id in self.refuse:
                self.refuse.discard(msg.message_id)
                raise RuntimeError("store unavailable")
            if msg.message_id in self.stored:
                return False
            self.stored.append(msg.message_id)
            return True
        finally:
            self.running -= 1


class Harness:
    def __init__(self) -> None:
        self.sink = Sink()
        self.delivered: list[str] = []
        self.done: list[str] = []
        self.lost = 0
        self.storing = Storing(self.sink, self.deliver, self.count_lost)

    async def deliver(self, msg: InboundMessage) -> None:  # the transport's: retried until stored
        self.delivered.append(msg.message_id)
        while True:
            try:
                await self.sink.accept(msg)
                return
            except RuntimeError:
                continue

    def count_lost(self) -> None:
        self.lost += 1

    async def put(self, *mids: str) -> None:
        for mid in mids:
            await self.storing.put(message(mid), lambda mid=mid: self.done.append(mid))  # type: ignore[misc]


async def test_a_burst_is_stored_together_and_handled_in_order_once_stored() -> None:
    h = Harness()
    h.sink.gate.clear()
    runner = asyncio.create_task(h.storing.run())
    await h.put("1")
    await asyncio.sleep(0)  # "1" is being stored alone; the rest arrives meanwhile
    await h.put("2", "3", "4", "5")
    assert h.done == []
    h.sink.gate.set()
    await h.storing.settle(runner)
    runner.cancel()
    assert h.done == ["1", "2", "3", "4", "5"] and h.sink.stored == ["1", "2", "3", "4", "5"]
    assert h.sink.most == 4  # the four that came meanwhile, at once


async def test_a_refused_one_and_those_after_it_are_delivered_again_in_order() -> None:
    h = Harness()
    h.sink.refuse = {"2"}
    runner = asyncio.create_task(h.storing.run())
    await h.put("1", "2", "3")
    await h.storing.settle(runner)
    runner.cancel()
    assert h.delivered == ["2", "3"]  # "3" again too ("3" was stored already: a duplicate then)
    assert h.done == ["1", "2", "3"] and sorted(h.sink.stored) == ["1", "2", "3"]


async def test_messages_dropped_unstored_are_reported() -> None:
    h = Harness()
    h.sink.gate.clear()
    runner = asyncio.create_task(h.storing.run())
    await h.put("1")
    await asyncio.sleep(0)
    await h.put("2")
    runner.cancel()
    await asyncio.wait([runner])
    await h.storing.settle(runner)  # returns: the runner ended
    assert h.lost == 1 and h.done == []
