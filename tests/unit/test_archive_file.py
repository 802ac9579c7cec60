"""``rcinbox messages`` reads an SQLite archive with ``sqlite3`` (:mod:`rcinbox.store.archive_file`):
the same entries as the store's own query, for every kind of row (decided or not, a reply queued,
sent or failed, an escalation, what the classifier understood, attachments stored and refused); an
archive it does not read as it is (another schema version) is left to the store, and only the
default kind of SQLite URL is read without SQLAlchemy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from messages_cli_kit import ALEX, EXT, envelope, fill
from sqlalchemy.engine import make_url

from rcinbox.cli.messages import sqlite_file
from rcinbox.events import InboundMessage
from rcinbox.store import AttachmentRecord, DecisionRecord, EscalationRecord, Store, archive_file


async def every_kind_of_row(path: Path) -> None:
    await fill(path)  # a reply queued with a stored photo, a suppression, an undecided text
    async with await Store.open(f"sqlite+aiosqlite:///{path}") as store:
        for message_id, text in (("2001", "URGENT my card was stolen"), ("2002", "where are you?")):
            at = f"2026-12-21T15:0{message_id[-1]}:00.125Z"
            msg = InboundMessage.from_notification(
                envelope(message_id, "+14155550100", None, text, at), "webhook"
            )
            assert await store.accept(msg)
        urgent, question = [await store.find_message(EXT, m) for m in ("2001", "2002")]
        assert urgent is not None and question is not None
        escalation = EscalationRecord("Urgent text", ALEX, "+16505550123", "escalation:x", "+14155550100")
        smart = {"intent": "urgent", "confidence": 0.91, "backend": "builtin", "reply_kind": "urgent"}
        assert await store.conclude(
            urgent.pk,
            DecisionRecord(
                "reply",
                "replied",
                "urgent:x",
                {},
                "Away.",
                ALEX,
                "+14155550100",
                escalation=escalation,
                **smart,
            ),
        )
        assert await store.conclude(
            question.pk, DecisionRecord("reply", "replied", "vacation", {}, "Away too.", ALEX, "+14155550100")
        )
        refused = AttachmentRecord(
            urgent.pk, "78", "application/zip", "http://emu/78", "refused", reason="type"
        )
        assert await store.record_attachment(refused)
    with sqlite3.connect(path) as conn:  # the outbox's later states, as its sender leaves them
        conn.execute("UPDATE outbox SET state = 'sent' WHERE kind = 'reply' AND message_pk = ?", (urgent.pk,))
        conn.execute(
            "UPDATE outbox SET state = 'failed', last_error = 'opted-out: STOP' WHERE message_pk = ?",
            (question.pk,),
        )
    conn.close()


@pytest.mark.parametrize("limit", [1, 3, 50])
async def test_the_same_entries_as_the_store(tmp_path: Path, limit: int) -> None:
    path = tmp_path / "rcinbox.db"
    await every_kind_of_row(path)
    async with await Store.open(f"sqlite+aiosqlite:///{path}", upgrade=False) as store:
        expected = await store.recent(limit)
    assert len(expected) == min(limit, 5)
    assert archive_file.recent(path, limit) == expected


async def test_the_rows_it_reads_are_every_kind(tmp_path: Path) -> None:
    path = tmp_path / "rcinbox.db"
    await every_kind_of_row(path)
    entries = archive_file.recent(path, 50)
    assert [(e.message_id, e.action, e.reply_state, e.attachments) for e in entries] == [
        ("2002", "reply", "failed", 0),
        ("2001", "reply", "sent", 0),
        ("1003", None, None, 0),
        ("1002", "suppress", None, 0),
        ("1001", "reply", "queued", 1),
    ]
    urgent = entries[1]
    assert (urgent.intent, urgent.escalation_to, urgent.reply_text) == ("urgent", "+16505550123", "Away.")
    assert [file.state for file in urgent.files] == ["refused"]
    assert entries[0].reply_error == "opted-out: STOP"
    assert urgent.created_at.isoformat() == "2026-12-21T15:01:00.125000+00:00"


async def test_another_schema_version_is_left_to_the_store(tmp_path: Path) -> None:
    path = tmp_path / "rcinbox.db"
    await every_kind_of_row(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")
    conn.close()
    with pytest.raises(archive_file.NotReadHere):
        archive_file.recent(path, 50)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///rcinbox-data/rcinbox.db",
        "sqlite+aiosqlite:////srv/rcinbox/rcinbox.db",
        "sqlite:///relative.db",
        "sqlite+aiosqlite:///data/my%20archive.db",
        "sqlite+aiosqlite:///file.db?mode=ro",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite://",
        "postgresql+asyncpg://rcinbox:secret@db/rcinbox",
    ],
)
def test_sqlite_file_reads_urls_as_sqlalchemy_does(url: str) -> None:
    parsed = make_url(url)
    database = parsed.database
    expected = (
        Path(database)
        if parsed.get_backend_name() == "sqlite" and database not in (None, "", ":memory:")
        else None
    )
    assert sqlite_file(url) == expected
