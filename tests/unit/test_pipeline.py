"""The pipeline against a scripted platform: one row, one decision, one reply per message however
often it is announced; every decision with its reason; restarts, retries, parked messages, company
numbers (against the emulator: tests/integration/test_pipeline_emulator.py)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from pipeline_fakes import (
    CHARLIE,
    EXT,
    OWNER,
    FakeBook,
    FakePlatform,
    envelope,
    holds,
    media_uri,
    vacation_rules,
)
from sqlalchemy import update

from rcinbox.errors import ServerError
from rcinbox.events import InboundMessage
from rcinbox.platform.retry import RetryPolicy
from rcinbox.service.outbox import Outbox
from rcinbox.service.pipeline import Pipeline, PipelineOptions
from rcinbox.store import Store
from rcinbox.store.schema import attachments, messages
from rcinbox.waiting import Changes, wait_any

FAST = PipelineOptions(retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, jitter=0))


def make_pipeline(store: Store, fake: FakePlatform, tmp_path: Path, book: FakeBook | None = None) -> Pipeline:
    outbox = Outbox(store, fake)
    return Pipeline(
        store, fake, vacation_rules, {EXT: book or FakeBook()}, tmp_path / "data", outbox=outbox, options=FAST
    )


def inbound(**kwargs: object) -> InboundMessage:
    return InboundMessage.from_notification(envelope(**kwargs), "webhook")  # type: ignore[arg-type]


async def test_duplicate_notification_gives_one_row_one_decision_one_reply(
    store: Store, tmp_path: Path
) -> None:
    fake = FakePlatform()
    pipeline = make_pipeline(store, fake, tmp_path)
    assert await pipeline.accept(inbound(message_id="100", text="Are you around?")) is True
    assert await pipeline.accept(inbound(message_id="100", text="Are you around?")) is False
    assert await pipeline.drain() == 1
    assert await pipeline.accept(inbound(message_id="100")) is False  # after processing too
    assert await pipeline.drain() == 0
    assert pipeline.outbox is not None
    assert await pipeline.outbox.drain() == 1  # type: ignore[attr-defined]
    (entry,) = await store.recent()
    assert (entry.message_id, entry.state, entry.action, entry.reason, entry.reply_state) == (
        "100",
        "done",
        "reply",
        "replied",
        "sent",
    )
    assert [(r["from"]["phoneNumber"], r["to"][0]["phoneNumber"], r["subject"]) for r in fake.sent] == [
        (OWNER, CHARLIE, "Hi Charlie, I'm away. Back soon.")
    ]
    decision = await store.decision(entry.pk)
    assert decision is not None
    assert decision.facts["owner_numbers"] == ["+16505550000", OWNER, "+16505550101"]
    assert decision.facts["company_numbers"] == ["+16505550000"]
    assert decision.facts["is_contact"] is True
    # the address book's name as the dashboard shows it (store/views.py reads it from here)
    assert (decision.facts["contact_name"], decision.facts["contact_last_name"]) == ("Charlie", "Williams")


async def test_every_decision_is_recorded_with_its_reason(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    pipeline = make_pipeline(store, fake, tmp_path, FakeBook({}))
    await pipeline.accept(inbound(message_id="1", text="STOP"))
    await pipeline.accept(inbound(message_id="2", text="hello?"))
    await pipeline.accept(
        inbound(message_id="3", text="hi all", sender="+14155550123", to=(OWNER, "+14155550124"))
    )
    await pipeline.accept(inbound(message_id="4", text="ping", sender="+16505550101"))
    await pipeline.accept(inbound(message_id="5", text="Your code is 1234", sender="22000"))
    await pipeline.accept(inbound(message_id="6", text="START"))
    await pipeline.accept(inbound(message_id="7", text="hello again"))
    await pipeline.drain()
    entries = sorted(await store.recent(), key=lambda e: int(e.message_id))
    assert [(e.message_id, e.action, e.reason) for e in entries] == [
        ("1", "opt-out", "opt-out"),
        ("2", "suppress", "opted-out"),
        ("3", "suppress", "group-message"),
        ("4", "suppress", "own-number"),
        ("5", "suppress", "short-code"),
        ("6", "opt-in", "opt-in"),
        ("7", "reply", "replied"),
    ]
    assert await store.opted_out(CHARLIE) is False
    (reply,) = [e for e in entries if e.reply_state is not None]
    assert reply.message_id == "7" and reply.reply_state == "queued"
    assert (await store.message(reply.pk)).state == "decided"


async def test_restart_between_accept_and_processing_processes_once(tmp_path: Path, store_url: str) -> None:
    fake = FakePlatform()
    async with await Store.open(store_url) as first:
        assert await make_pipeline(first, fake, tmp_path).accept(inbound(message_id="200"))
        # the process dies here: acknowledged, not processed
    for _ in range(2):  # two restarts: the second finds nothing left to do
        async with await Store.open(store_url) as store:
            pipeline = make_pipeline(store, fake, tmp_path)
            outbox = pipeline.outbox
            assert isinstance(outbox, Outbox)
            stop = asyncio.Event()
            workers = [asyncio.create_task(pipeline.run(stop)), asyncio.create_task(outbox.run(stop))]
            await outbox.changes.until(holds(lambda: len(fake.sent) == 1), 5)
            stop.set()
            await asyncio.wait_for(asyncio.gather(*workers), 5)
            (entry,) = await store.recent()
            assert (entry.state, entry.reason, entry.reply_state) == ("done", "replied", "sent")
    assert fake.send_calls == 1


async def test_worker_wakes_on_accept_and_stops_promptly(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    pipeline = make_pipeline(store, fake, tmp_path)
    outbox = pipeline.outbox
    assert isinstance(outbox, Outbox)
    stop = asyncio.Event()
    workers = [asyncio.create_task(pipeline.run(stop)), asyncio.create_task(outbox.run(stop))]
    await asyncio.sleep(0)
    await pipeline.accept(inbound(message_id="300"))
    await outbox.changes.until(holds(lambda: len(fake.sent) == 1), 5)
    await pipeline.accept(inbound(message_id="301", sender="+14155550111"))
    await outbox.changes.until(holds(lambda: len(fake.sent) == 2), 5)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*workers), 2)


async def test_a_failing_download_holds_up_no_decision_and_is_retried(store: Store, tmp_path: Path) -> None:
    """Attachments are downloaded after the decision, on their own queue: an MMS whose download
    fails is decided (and answered) like the text after it; the download is retried later and
    its bytes end up stored with their checksum."""
    fake = FakePlatform()
    uri = media_uri(EXT, "400", "1")
    fake.media[uri] = (200, b"GIF89a", "image/gif")
    fake.stream_errors[uri] = [ServerError(503, "CMN-211", "unavailable")]
    pipeline = make_pipeline(store, fake, tmp_path)
    att = {"id": "1", "type": "MmsAttachment", "uri": uri, "contentType": "image/gif"}
    await pipeline.accept(inbound(message_id="400", attachments=[att]))
    await pipeline.accept(inbound(message_id="401", sender="+14155550111"))
    assert await pipeline.drain() == 2
    assert fake.streamed == []  # nothing downloaded before deciding
    first, second = sorted(await store.recent(), key=lambda e: e.message_id)
    assert (first.state, first.action, first.last_error) == ("decided", "reply", None)
    assert (second.state, second.action) == ("decided", "reply")
    assert [(f.state, f.sha256) for f in first.files] == [("pending", None)]
    assert await pipeline.downloads.drain() == 1
    (pending,) = (await store.attachments(first.pk)).values()
    assert (pending.state, pending.last_error) == ("pending", "ServerError: HTTP 503 CMN-211: unavailable")
    async with store.engine.begin() as conn:  # its backoff (5 s) has passed
        await conn.execute(update(attachments).values(next_attempt_at=None))
    assert await pipeline.downloads.drain() == 1
    (attachment,) = (await store.attachments(first.pk)).values()
    assert (attachment.state, attachment.sha256) == ("stored", hashlib.sha256(b"GIF89a").hexdigest())
    assert fake.streamed == [uri, uri]
    assert (await store.message(first.pk)).attempts == 0  # the message itself never failed


async def test_poison_message_is_parked_visibly(store: Store, tmp_path: Path) -> None:
    fake = FakePlatform()
    fake.numbers = {}  # phone-number lookups fail below
    pipeline = make_pipeline(store, fake, tmp_path)

    async def broken(ext: str = "~") -> list[dict[str, object]]:
        raise ServerError(500, "CMN-201", "Service temporarily unavailable")

    fake.phone_numbers = broken  # type: ignore[method-assign,assignment]
    await pipeline.accept(inbound(message_id="500"))
    stop = asyncio.Event()
    worker = asyncio.create_task(pipeline.run(stop))
    stored = await store.find_message(EXT, "500")
    assert stored is not None

    async def parked() -> bool:
        return (await store.message(stored.pk)).state == "failed"

    await pipeline.changes.until(parked, 5)
    stop.set()
    await asyncio.wait_for(worker, 2)
    message = await store.message(stored.pk)
    assert message.attempts == 3
    assert message.last_error == (
        "gave up after 3 attempts: ServerError: HTTP 500 CMN-201: Service temporarily unavailable"
    )
    assert await store.decision(stored.pk) is None
    assert [m.pk for m in await store.due()] == []


async def test_numbers_of_other_extensions_and_configured_ones_are_company_numbers(
    store: Store, tmp_path: Path
) -> None:
    fake = FakePlatform()
    fake.numbers["62264426016"] = [{"phoneNumber": "+16505550102", "usageType": "DirectNumber"}]
    options = PipelineOptions(retry=FAST.retry, company_numbers=frozenset({"+18005550199"}))
    books = {EXT: FakeBook(), "62264426016": FakeBook()}
    pipeline = Pipeline(store, fake, vacation_rules, books, tmp_path, options=options)
    await pipeline.accept(inbound(message_id="600", sender="+16505550102"))  # a colleague's number
    await pipeline.accept(inbound(message_id="601", sender="+18005550199"))  # the main line
    await pipeline.accept(inbound(message_id="602", sender="+16505550000"))  # MainCompanyNumber
    await pipeline.drain()
    entries = sorted(await store.recent(), key=lambda e: e.message_id)
    assert [(e.message_id, e.reason) for e in entries] == [
        ("600", "company-number"),
        ("601", "company-number"),
        ("602", "own-number"),  # listed under the extension itself
    ]


async def test_wait_any_and_changes() -> None:
    first, second = asyncio.Event(), asyncio.Event()
    await asyncio.wait_for(wait_any(first, second, at_most=0.01), 1)  # times out quietly
    second.set()
    await asyncio.wait_for(wait_any(first, second), 1)
    changes = Changes()
    seen: list[int] = []

    async def after_two() -> bool:
        seen.append(changes.count)
        return changes.count >= 2

    waiter = asyncio.create_task(changes.until(after_two, 1))
    await asyncio.sleep(0)
    changes.notify()
    changes.notify()
    await asyncio.wait_for(waiter, 1)
    assert seen[0] == 0 and seen[-1] == 2
    with pytest.raises(TimeoutError):
        await changes.until(holds(lambda: False), 0.01)


async def test_the_worker_processes_the_message_parsed_at_intake_not_its_raw_payload(
    store: Store, tmp_path: Path
) -> None:
    """A message is parsed once, at the edge: the worker works from the columns. Here ``raw`` is
    made unreadable by hand after intake and the message is still fetched, decided and answered
    exactly as announced (attachments with their problem, sender, the envelope's timestamp)."""
    fake = FakePlatform()
    uri = media_uri(EXT, "600", "1")
    fake.media[uri] = (200, b"GIF89a", "image/gif")
    pipeline = make_pipeline(store, fake, tmp_path)
    announced = [
        {"id": "1", "type": "MmsAttachment", "uri": uri, "contentType": "image/gif", "size": 6},
        {"id": "2", "type": "MmsAttachment", "contentType": "image/png"},  # no uri: malformed
    ]
    env = {**envelope(message_id="600", sender_name="Charlie", attachments=announced)}
    env["timestamp"] = "2026-11-27T10:01:30.000Z"  # handed over 90 s after it was written
    assert await pipeline.accept(InboundMessage.from_notification(env, "webhook"))
    async with store.engine.begin() as conn:
        await conn.execute(update(messages).where(messages.c.message_id == "600").values(raw={"body": 7}))
    assert await pipeline.drain() == 1
    assert await pipeline.downloads.drain() == 1  # the malformed one is refused when queued
    (entry,) = await store.recent()
    assert (entry.state, entry.action, entry.reason, entry.last_error) == (
        "decided",
        "reply",
        "replied",
        None,
    )
    decision = await store.decision(entry.pk)
    assert decision is not None and (decision.reply_to, decision.reply_from) == (CHARLIE, OWNER)
    assert decision.facts["age_s"] == 90.0
    files = await store.attachments(entry.pk)
    assert (files["1"].state, files["1"].sha256) == ("stored", hashlib.sha256(b"GIF89a").hexdigest())
    assert (files["2"].state, files["2"].reason) == (
        "refused",
        "malformed: body.attachments[2].uri is missing or not a string",
    )
    assert fake.streamed == [uri]
