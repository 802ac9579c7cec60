"""The archive read straight from its SQLite file, with the standard library's ``sqlite3``.

``rcinbox messages`` on an SQLite archive reads through here: the query takes milliseconds, and
loading SQLAlchemy for it would take longer than everything else the command does. It gives the
same entries as :func:`rcinbox.store.archive.recent` (one SELECT with the decision, reply,
escalation and stored-attachment count, then the attachments of those messages;
``tests/unit/test_archive_file.py`` compares the two) and only ever reads. Whatever it does not
expect (a schema other than :data:`~rcinbox.store.migrations.HEAD`, no version table) is
:class:`NotReadHere`: the caller then reads through the store, which explains what is wrong.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rcinbox.store.migrations import HEAD
from rcinbox.store.records import ArchiveEntry, AttachmentRecord, archive_entry, attachment

BUSY_TIMEOUT_S = 10.0  # as the store's (rcinbox.store.engine.BUSY_TIMEOUT_MS)

RECENT = """
SELECT m.id, m.extension_id, m.message_id, m.sender, m.sender_name, m.receiving_number, m.text,
       m.created_at, m.state, m.last_error,
       d.action, d.reason, d.intent, d.confidence, d.backend, d.reply_kind,
       reply.state AS reply_state, reply.last_error AS reply_error, reply.text AS reply_text,
       (SELECT count(*) FROM attachments AS a WHERE a.message_pk = m.id AND a.state = 'stored')
         AS attachment_count,
       escalation.to_number AS escalation_to, escalation.state AS escalation_state
FROM messages AS m
LEFT OUTER JOIN decisions AS d ON d.message_pk = m.id
LEFT OUTER JOIN outbox AS reply ON reply.message_pk = m.id AND reply.kind = 'reply'
LEFT OUTER JOIN outbox AS escalation ON escalation.message_pk = m.id AND escalation.kind = 'escalation'
ORDER BY m.id DESC
LIMIT ?
"""
FILES = """
SELECT message_pk, attachment_id, content_type, uri, state, size, sha256, path, reason, last_error
FROM attachments WHERE message_pk IN ({marks}) ORDER BY id
"""


class NotReadHere(Exception):
    """Not an archive this reader reads as it is (read it through the store instead)."""


def recent(path: Path, limit: int) -> list[ArchiveEntry]:
    """The latest ``limit`` messages of the archive in ``path``, newest first."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise NotReadHere(str(exc)) from exc
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("BEGIN")  # one read transaction (a plain BEGIN takes no write lock)
        if _version(conn) != [HEAD]:
            raise NotReadHere("not at this code's schema version")
        rows = [_message(row) for row in conn.execute(RECENT, (limit,))]
        files = _files(conn, [row["id"] for row in rows])
    except sqlite3.Error as exc:
        raise NotReadHere(str(exc)) from exc
    finally:
        conn.close()  # ends the transaction: nothing was written
    return [archive_entry(row, files.get(row["id"], ())) for row in rows]


def _version(conn: sqlite3.Connection) -> list[str] | None:
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")
    if found.fetchone() is None:
        return None
    return [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]


def _message(row: sqlite3.Row) -> dict[str, Any]:
    values = dict(zip(row.keys(), row, strict=True))
    values["created_at"] = _utc(values["created_at"])
    return values


def _files(conn: sqlite3.Connection, pks: list[int]) -> dict[int, tuple[AttachmentRecord, ...]]:
    if not pks:
        return {}
    query = FILES.format(marks=", ".join("?" * len(pks)))
    by_message: dict[int, list[AttachmentRecord]] = {}
    for row in conn.execute(query, pks):
        values = dict(zip(row.keys(), row, strict=True))
        by_message.setdefault(values["message_pk"], []).append(attachment(values))
    return {pk: tuple(records) for pk, records in by_message.items()}


def _utc(value: str) -> datetime:
    """A stored timestamp (UTC, written by the store as ``YYYY-MM-DD HH:MM:SS.ffffff``), aware."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC)
