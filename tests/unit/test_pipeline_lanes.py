"""Several messages decided at once, one after another per sender (service/lanes.py): a burst from
one sender still gets exactly one reply while other senders' texts are decided beside it, and a
slow decision for one sender does not hold up another's."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pipeline_fakes import CHARLIE, EXT, FakeBook, FakePlatform, envelope, vacation_rules

from rcinbox.events import InboundMessage
from rcinbox.intent import Classification
from rcinbox.rules.smart_config import Smart
from rcinbox.service.outbox import Outbox
from rcinbox.service.pipeline import Pipeline, PipelineOptions
from rcinbox.service.understanding import Understanding
from rcinbox.store import Store


def text(sender: str, words: str = "Are you around?") -> InboundMessage:
    return InboundMessage.from_notification(envelope(sender=sender, text=words), "webhook")


def other(i: int) -> str:
    return f"+1415555{i:04d}"


class Gated(Understanding):
    """A classifier that holds every text saying ``slow`` until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.held = asyncio.Event()

    async def classify(self, smart: Smart, text: str) -> Classification | None:
        if text == "slow":
            self.held.set()
            await self.gate.wait()
        return None


def pipeline_for(
    store: Store, fake: FakePlatform, tmp_path: Path, understanding: Understanding | None = None
) -> Pipeline:
    return Pipeline(
        store,
        fake,
        vacation_rules,
        {EXT: FakeBook()},
        tmp_path / "data",
        outbox=Outbox(store, fake),
        options=PipelineOptions(concurrency=8),
        understanding=understanding,
    )


async def test_a_burst_from_one_sender_among_others_gets_exactly_one_reply(
    store: Store, tmp_path: Path
) -> None:
    fake = FakePlatform()
    pipeline = pipeline_for(store, fake, tmp_path)
    for i in range(40):  # Charlie's texts interleaved with 30 other senders'
        await pipeline.accept(text(CHARLIE if i % 4 == 0 else other(i)))
    assert await pipeline.drain() == 40
    outbox = pipeline.outbox
    assert isinstance(outbox, Outbox)
    await outbox.drain()
    recipients = [sent["to"][0]["phoneNumber"] for sent in fake.sent]
    assert recipients.count(CHARLIE) == 1
    assert sorted(set(recipients)) == sorted({CHARLIE, *(other(i) for i in range(40) if i % 4)})
    entries = sorted(await store.recent(limit=100), key=lambda e: e.pk)
    charlie = [(e.action, e.reason) for e in entries if e.sender == CHARLIE]
    assert charlie[0] == ("reply", "replied") and len(charlie) == 10  # the first one, in arrival order
    assert {reason for _, reason in charlie[1:]} == {"already-replied"}


async def test_a_slow_decision_holds_up_its_sender_only(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    understanding = Gated()
    pipeline = pipeline_for(store, fake, tmp_path, understanding)
    await pipeline.accept(text(CHARLIE, "slow"))
    await pipeline.accept(text(CHARLIE, "and then this"))
    await pipeline.accept(text(other(1)))
    drain = asyncio.create_task(pipeline.drain())
    try:
        await asyncio.wait_for(understanding.held.wait(), 5)

        async def decided() -> dict[str, list[str | None]]:
            by_sender: dict[str, list[str | None]] = {}
            for entry in sorted(await store.recent(), key=lambda e: e.pk):
                by_sender.setdefault(entry.sender, []).append(entry.action)
            return by_sender

        async def other_decided() -> bool:
            return (await decided())[other(1)] == ["reply"]

        await pipeline.changes.until(other_decided, 5)  # while Charlie's first text is still held
        assert (await decided())[CHARLIE] == [None, None]  # his second waits behind his first
        understanding.gate.set()
        assert await asyncio.wait_for(drain, 5) == 3
    finally:
        understanding.gate.set()
        drain.cancel()
    assert [entry.action for entry in await store.recent() if entry.sender == CHARLIE] == [
        "suppress",
        "reply",
    ]


async def test_processing_is_recorded_per_message_after_a_round_in_lanes(
    store: Store, tmp_path: Path
) -> None:
    fake = FakePlatform()
    pipeline = pipeline_for(store, fake, tmp_path)
    stop = asyncio.Event()
    worker = asyncio.create_task(pipeline.run(stop))
    try:
        for i in range(12):
            await pipeline.accept(text(other(i % 3)))

        async def all_decided() -> bool:
            return sum(1 for e in await store.recent(limit=50) if e.action is not None) == 12

        await pipeline.changes.until(all_decided, 10)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 5)
    reasons = [e.reason for e in sorted(await store.recent(limit=50), key=lambda e: e.pk)]
    assert reasons[:3] == ["replied"] * 3 and reasons[3:] == ["already-replied"] * 9
