from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pipeline_fakes import CHARLIE, EXT, OWNER, envelope
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from store_kit import sqlite_only

from rcinbox.clock import FakeClock
from rcinbox.errors import StoreError
from rcinbox.events import InboundMessage
from rcinbox.store import AttachmentRecord, DecisionRecord, Store
from rcinbox.store.schema import messages


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    async with await Store.open(store_url, clock=clock) as opened:
        yield opened


def msg(**kwargs: object) -> InboundMessage:
    return InboundMessage.from_notification(envelope(**kwargs), "webhook")  # type: ignore[arg-type]


def reply(text: str = "Away until Monday", to: str = CHARLIE) -> DecisionRecord:
    return DecisionRecord(
        action="reply",
        reason="replied",
        handle="vacation",
        facts={"k": 1},
        reply_text=text,
        reply_from=OWNER,
        reply_to=to,
    )


@sqlite_only
async def test_sqlite_pragmas(store: Store) -> None:
    async with store.engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
        assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 10000


async def test_accept_dedupes_by_constraint(store: Store) -> None:
    first = msg(message_id="111", text="hello")
    assert await store.accept(first) is True
    assert await store.accept(msg(message_id="111", text="hello again")) is False
    assert await store.accept(msg(message_id="111", ext="62264425099")) is True  # other owner extension
    async with store.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT extension_id, text, state FROM messages ORDER BY id"))).all()
    assert [tuple(r) for r in rows] == [
        ("62264425016", "hello", "received"),
        ("62264425099", "Hi there", "received"),
    ]
    stored = await store.find_message("62264425016", "111")
    assert stored is not None
    assert stored.inbound() == first  # the columns give back the message as parsed at intake
    assert InboundMessage.from_notification(stored.raw, "webhook") == first  # raw: the archive's copy


async def test_announced_attachments_and_the_handover_time_are_stored_at_intake(store: Store) -> None:
    """The worker's message comes from the columns: every announced ref survives them, in order,
    with its problem or note, and so does the envelope's timestamp (the age the rules read)."""
    uri = "https://media.ringcentral.com/restapi/v1.0/account/1/extension/2/message-store/3/content/"
    announced: list[object] = [
        {"id": 9, "type": "MmsAttachment", "uri": uri + "9", "contentType": "image/png", "size": 10**40},
        {"id": "x" * 65, "type": "MmsAttachment", "uri": uri + "x", "contentType": "image/gif"},
        {"id": "4", "type": "MmsAttachment", "contentType": "image/gif"},
        "junk",
    ]
    env = envelope(message_id="333", sender_name="Zoë", to=(OWNER, CHARLIE), attachments=announced)
    env["timestamp"] = "2026-11-27T10:00:42.000Z"
    first = InboundMessage.from_notification(env, "webhook")
    assert [(ref.id, ref.problem is None, ref.note is None) for ref in first.attachments] == [
        ("9", True, False),
        ("#2", True, False),
        ("4", False, True),
        ("#4", False, True),
    ]
    assert await store.accept(first)
    stored = await store.find_message(EXT, "333")
    assert stored is not None and stored.announced == first.attachments
    assert stored.inbound() == first and stored.inbound().age == timedelta(seconds=42)


async def test_concurrent_duplicate_accepts_insert_once(store: Store) -> None:
    results = await asyncio.gather(*(store.accept(msg(message_id="222")) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]


async def test_due_retry_and_park(store: Store, clock: FakeClock) -> None:
    await store.accept(msg(message_id="1"))
    await store.accept(msg(message_id="2"))
    pk1, pk2 = [m.pk for m in await store.due()]
    await store.message_failed(pk1, "boom", clock.now() + timedelta(seconds=30))
    assert [m.pk for m in await store.due()] == [pk2]
    assert await store.next_message_due() == clock.now() + timedelta(seconds=30)
    clock.advance(timedelta(seconds=30))
    assert [m.pk for m in await store.due()] == [pk1, pk2]
    await store.message_failed(pk2, "poison", None)
    parked = await store.message(pk2)
    assert (parked.state, parked.attempts, parked.last_error) == ("failed", 1, "poison")
    assert [m.pk for m in await store.due()] == [pk1]
    await store.advance(pk1, "archived")
    assert (await store.message(pk1)).state == "archived"
    assert [m.pk for m in await store.due()] == [pk1]


async def test_accept_many_archives_a_batch_once(store: Store) -> None:
    """A catch-up's batch in one transaction: new ones inserted, those already archived (or twice
    in the batch) reported as duplicates; then each is processed like any other message."""
    assert await store.accept(msg(message_id="2"))
    batch = [msg(message_id=m, sender=f"+1415555010{m}") for m in ("1", "2", "3", "3", "4")]
    assert await store.accept_many(batch) == [True, False, True, False, True]
    assert await store.accept_many([]) == []
    stored = [await store.message(pk) for pk in [m.pk for m in await store.due()]]
    assert sorted(s.message_id for s in stored) == ["1", "2", "3", "4"]
    three = await store.find_message(EXT, "3")
    assert three is not None and (three.sender, three.state, three.text) == (
        "+14155550103",
        "received",
        "Hi there",
    )


async def test_attachment_outcome_recorded_once(store: Store) -> None:
    await store.accept(msg(message_id="5"))
    (pk,) = [m.pk for m in await store.due()]
    record = AttachmentRecord(
        pk, "9", "image/png", "https://x/9", "stored", 3, "ab" * 32, "attachments/a.png"
    )
    assert await store.record_attachment(record) is True
    assert await store.record_attachment(record) is False
    assert await store.attachments(pk) == {"9": record}


async def test_conclude_reply_is_atomic_and_unique(store: Store, clock: FakeClock) -> None:
    await store.accept(msg(message_id="7"))
    (pk,) = [m.pk for m in await store.due()]
    assert await store.conclude(pk, reply()) is True
    assert await store.conclude(pk, reply("second")) is False
    decision = await store.decision(pk)
    assert decision is not None
    assert (decision.action, decision.reply_text, decision.decided_at) == (
        "reply",
        "Away until Monday",
        clock.now(),
    )
    row = await store.outbox.for_message(pk)
    assert row is not None
    assert (row.state, row.text, row.to_number, row.from_number) == (
        "queued",
        "Away until Monday",
        CHARLIE,
        OWNER,
    )
    assert (await store.message(pk)).state == "decided"
    assert [m.pk for m in await store.due()] == []


async def test_broken_reply_decision_leaves_nothing(store: Store) -> None:
    await store.accept(msg(message_id="8"))
    (pk,) = [m.pk for m in await store.due()]
    bad = DecisionRecord(action="reply", reason="replied", handle="vacation", facts={}, reply_text="x")
    with pytest.raises(ValueError, match="reply_from"):
        await store.conclude(pk, bad)
    assert await store.decision(pk) is None
    assert (await store.message(pk)).state == "received"


async def test_opt_out_upsert_newest_wins(store: Store) -> None:
    await store.accept(msg(message_id="20", text="STOP", created="2026-11-27T10:00:00Z"))
    await store.accept(msg(message_id="21", text="START", created="2026-11-27T10:05:00Z"))
    await store.accept(msg(message_id="22", text="stop!", created="2026-11-27T10:01:00Z"))
    stop, start, late_stop = [m.pk for m in await store.due()]
    suppress = {"reason": "opt-out", "handle": "vacation", "facts": {}}
    assert await store.conclude(stop, DecisionRecord(action="opt-out", **suppress)) is True  # type: ignore[arg-type]
    assert await store.opted_out(CHARLIE) is True
    assert await store.conclude(start, DecisionRecord(action="opt-in", **suppress)) is True  # type: ignore[arg-type]
    assert await store.opted_out(CHARLIE) is False
    # processed later but sent earlier than START: does not override it
    assert await store.conclude(late_stop, DecisionRecord(action="opt-out", **suppress)) is True  # type: ignore[arg-type]
    assert await store.opted_out(CHARLIE) is False
    assert [(e.state, e.action) for e in await store.recent()] == [
        ("done", "opt-out"),
        ("done", "opt-in"),
        ("done", "opt-out"),
    ]


async def test_ledger_queries(store: Store, clock: FakeClock) -> None:
    start = clock.now()
    for i in range(3):
        await store.accept(msg(message_id=f"3{i}"))
    pks = [m.pk for m in await store.due()]
    await store.conclude(pks[0], reply())
    clock.advance(timedelta(hours=1))
    await store.conclude(pks[1], reply())
    assert await store.last_reply_at(CHARLIE, "vacation") == start + timedelta(hours=1)
    assert await store.last_reply_at(CHARLIE, "other") is None
    assert await store.automated_count(CHARLIE, start) == 2
    assert await store.automated_count(CHARLIE, start + timedelta(minutes=1)) == 1
    first = await store.outbox.for_message(pks[0])
    second = await store.outbox.for_message(pks[1])
    assert first is not None and second is not None
    clock.advance(timedelta(hours=1))
    await store.outbox.mark_sent(first.id, "999")
    await store.outbox.mark_failed(second.id, "HTTP 400 MSG-243")
    # a failed text does not count; a sent one counts from when it went out
    assert await store.automated_count(CHARLIE, start) == 1
    assert await store.last_reply_at(CHARLIE, "vacation") == start + timedelta(hours=2)
    assert (await store.message(pks[0])).state == "done"
    assert await store.has_reply(pks[0]) and not await store.has_reply(pks[2])
    assert await store.outbox.known_platform_ids(["999", "1000"]) == {"999"}


async def test_outbox_claim_and_recovery(store: Store, clock: FakeClock) -> None:
    await store.accept(msg(message_id="40"))
    (pk,) = [m.pk for m in await store.due()]
    await store.conclude(pk, reply())
    (row,) = await store.outbox.due()
    claim = await store.outbox.claim(row.id)
    assert claim is not None and not claim.reconcile
    assert (claim.row.state, claim.row.attempts, claim.row.claimed_at) == ("sending", 1, clock.now())
    assert await store.outbox.claim(row.id) is None  # in flight: nobody else gets it
    assert await store.outbox.due() == []
    assert await store.outbox.next_due() == clock.now() + timedelta(minutes=10)  # the lease
    # a new process starts: in-flight rows become due, and claiming them asks for reconciliation
    assert await store.outbox.recover_in_flight() == 1
    clock.advance(timedelta(minutes=5))
    again = await store.outbox.claim(row.id)
    assert again is not None and again.reconcile
    assert (again.row.attempts, again.row.claimed_at) == (2, clock.now() - timedelta(minutes=5))
    await store.outbox.retry_later(row.id, "timeout", clock.now() + timedelta(seconds=10))
    assert await store.outbox.next_due() == clock.now() + timedelta(seconds=10)


async def test_kv(store: Store) -> None:
    assert await store.kv_get("sync") is None
    await store.kv_put("sync", "a")
    await store.kv_put("sync", "b")
    assert await store.kv_get("sync") == "b"
    assert await store.kv_setdefault("made once", "first") == "first"
    assert await store.kv_setdefault("made once", "second") == "first"
    async with store.kv_locked("session") as row:  # created empty, then written under the lock
        assert row.value is None
        await row.put("pair")
    async with store.kv_locked("session") as row:
        assert row.value == "pair"
    assert await store.kv_get("session") == "pair"


async def test_state_survives_reopen(tmp_path: Path, clock: FakeClock) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    async with await Store.open(url, clock=clock) as first:
        assert await first.accept(msg(message_id="50"))
    async with await Store.open(url, clock=clock) as second:
        assert await second.accept(msg(message_id="50")) is False
        assert len(await second.due()) == 1


async def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match=r"^database error: ValueError: naive datetime given to the store"):
        await store.automated_count(CHARLIE, datetime(2026, 1, 1))


async def test_driver_errors_become_store_errors(tmp_path: Path) -> None:
    (tmp_path / "not-a-db").write_bytes(b"this is not a SQLite database" * 100)
    with pytest.raises(
        StoreError, match=r"^cannot connect to the database .*/not-a-db: file is not a database$"
    ):
        await Store.open(f"sqlite+aiosqlite:///{tmp_path}/not-a-db")


async def set_subject(conn: AsyncConnection, pk: int, subject: str) -> None:
    """Tamper with an archived envelope (on any database)."""
    raw = (await conn.execute(select(messages.c.raw).where(messages.c.id == pk))).scalar_one()
    raw["body"]["subject"] = subject
    await conn.execute(update(messages).where(messages.c.id == pk).values(raw=raw))


async def test_decision_record_is_a_verifiable_hash_chain(store: Store) -> None:
    for i, body in enumerate(["STOP", "hello", "START"]):
        await store.accept(msg(message_id=f"6{i}", text=body))
    stop, hello, start = [m.pk for m in await store.due()]
    await store.conclude(
        stop, DecisionRecord(action="opt-out", reason="opt-out", handle="vacation", facts={})
    )
    await store.conclude(hello, reply())
    await store.conclude(start, DecisionRecord(action="opt-in", reason="opt-in", handle="vacation", facts={}))
    report = await store.verify_decisions()
    assert (report.decisions, report.ok, report.problem) == (3, True, None)
    async with store.engine.begin() as conn:  # someone edits the archive behind rcinbox's back
        await conn.execute(
            text("UPDATE decisions SET reason = 'not-a-contact' WHERE message_pk = :pk"), {"pk": hello}
        )
    report = await store.verify_decisions()
    assert (report.ok, report.bad_decision, report.problem) == (
        False,
        2,
        "the decision does not match its hash",
    )
    async with store.engine.begin() as conn:
        await conn.execute(
            text("UPDATE decisions SET reason = 'replied' WHERE message_pk = :pk"), {"pk": hello}
        )
        await set_subject(conn, stop, "hi")
    report = await store.verify_decisions()
    assert (report.ok, report.bad_decision, report.problem) == (
        False,
        1,
        "the archived message does not match its digest",
    )
    async with store.engine.begin() as conn:
        await set_subject(conn, stop, "STOP")
        await conn.execute(text("DELETE FROM decisions WHERE message_pk = :pk"), {"pk": hello})
    report = await store.verify_decisions()
    assert (report.ok, report.bad_decision) == (False, 3)
    assert report.problem is not None and report.problem.startswith("not linked to the previous decision")


def test_schema_and_upserts_render_for_postgresql() -> None:
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateTable

    from rcinbox.store import schema
    from rcinbox.store.engine import upsert_statement

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    ddl = {t.name: str(CreateTable(t).compile(dialect=dialect)) for t in schema.metadata.sorted_tables}
    assert "id BIGSERIAL NOT NULL" in ddl["messages"]
    assert "CONSTRAINT uq_messages_extension_message UNIQUE (extension_id, message_id)" in ddl["messages"]
    assert "created_at TIMESTAMP WITH TIME ZONE NOT NULL" in ddl["messages"]
    assert "CONSTRAINT uq_outbox_message_kind UNIQUE (message_pk, kind)" in ddl["outbox"]
    assert "UNIQUE (message_pk)" in ddl["decisions"]
    assert "FOREIGN KEY(message_pk) REFERENCES messages (id) ON DELETE SET NULL" in ddl["opt_outs"]
    statement = upsert_statement(
        "postgresql",
        schema.opt_outs,
        {"number": "+1", "state": "opted_out", "at": datetime(2026, 1, 1, tzinfo=UTC)},
        ["number"],
        only_if=schema.opt_outs.c.at <= datetime(2026, 1, 1, tzinfo=UTC),
    )
    rendered = " ".join(str(statement.compile(dialect=dialect)).split())
    assert rendered.startswith("INSERT INTO opt_outs (number, state, at) VALUES")
    assert (
        "ON CONFLICT (number) DO UPDATE SET state = excluded.state, at = excluded.at WHERE opt_outs.at <="
        in rendered
    )


async def test_an_expired_lease_makes_the_row_due_for_reconciliation(store: Store, clock: FakeClock) -> None:
    await store.accept(msg(message_id="41"))
    (pk,) = [m.pk for m in await store.due()]
    await store.conclude(pk, reply())
    (row,) = await store.outbox.due()
    assert await store.outbox.claim(row.id, timedelta(seconds=30)) is not None
    clock.advance(timedelta(seconds=29))
    assert await store.outbox.due() == []
    clock.advance(timedelta(seconds=1))  # the sender died without a word: another one takes over
    (again,) = await store.outbox.due()
    claim = await store.outbox.claim(again.id)
    assert claim is not None and claim.reconcile and claim.row.attempts == 2
