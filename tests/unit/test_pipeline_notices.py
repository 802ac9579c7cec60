"""The pipeline's and the outbox's notices to the dashboard's live feed: a new text (not a
duplicate), its decision and its reply each published once, in that order, with what the page
shows; a catch-up's batch as one notice."""

from __future__ import annotations

from pathlib import Path

from pipeline_fakes import CHARLIE, EXT, FakeBook, FakePlatform, envelope, vacation_rules

from rcinbox.dashboard.live import Publisher
from rcinbox.events import InboundMessage
from rcinbox.service.outbox import Outbox
from rcinbox.service.pipeline import Pipeline
from rcinbox.store import Store


def wired(store: Store, tmp_path: Path) -> tuple[Pipeline, Outbox, Publisher]:
    fake = FakePlatform()
    outbox = Outbox(store, fake)
    pipeline = Pipeline(store, fake, vacation_rules, {EXT: FakeBook()}, tmp_path / "data", outbox=outbox)
    publisher = Publisher()
    pipeline.notice = outbox.notice = publisher.publish
    return pipeline, outbox, publisher


def inbound(source: str = "webhook", **kwargs: object) -> InboundMessage:
    return InboundMessage.from_notification(envelope(**kwargs), source)  # type: ignore[arg-type]


async def test_a_text_its_decision_and_its_reply_are_each_published_once(
    store: Store, tmp_path: Path
) -> None:
    pipeline, outbox, publisher = wired(store, tmp_path)
    watcher = publisher.subscribe()
    await pipeline.accept(inbound(message_id="7", text="Are you around?"))
    await pipeline.accept(inbound(message_id="7", text="Are you around?"))  # a duplicate: no notice
    await pipeline.drain()
    await outbox.drain()
    seen = list(watcher.queue)
    assert [a.kind for a in seen] == ["received", "decided", "answered"]
    received, decided, answered = seen
    assert (received.extension_id, received.counterpart, received.text) == (EXT, CHARLIE, "Are you around?")
    assert decided.detail == "reply (replied)"
    assert (answered.counterpart, answered.text, answered.detail) == (
        CHARLIE,
        "Hi Charlie, I'm away. Back soon.",
        "reply",
    )


async def test_a_catch_up_batch_is_one_notice(store: Store, tmp_path: Path) -> None:
    pipeline, _, publisher = wired(store, tmp_path)
    batch = [inbound("sync", message_id=str(n)) for n in range(30, 40)]
    assert await pipeline.accept_many(batch) == 10
    assert [(a.kind, a.detail) for a in publisher.recent] == [("caught-up", "10 text(s)")]
