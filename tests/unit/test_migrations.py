"""The versioned schema (Alembic): an archive made by rcinbox 0.1.0 (before versioning) is stamped
and upgraded with nothing lost; a newer archive is refused in one line; a fresh database gets
exactly what ``schema.py`` declares; ``rcinbox messages`` never migrates; ``rcinbox db``."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from archive_kit import TABLES, dump, newer_archive, refusal, v0_archive
from sqlalchemy import create_engine
from typer.testing import CliRunner, Result

from rcinbox.cli.main import app
from rcinbox.errors import SchemaError
from rcinbox.events import AttachmentRef, InboundMessage
from rcinbox.store import Store, migrate
from rcinbox.store.schema import SEARCH_TABLES, metadata

# the columns the migrations added at the end of a 0.1.0 table: messages 0002 + 0003, attachments
# 0005 + 0010, the rest 0004
ADDED = {"messages": 3, "attachments": 4, "decisions": 4, "opt_outs": 2, "outbox": 3}
NO_SETTINGS: dict[str, str | None] = {
    "RC_APP_CLIENT_ID": None,
    "RC_APP_CLIENT_SECRET": None,
    "RC_USER_JWT": None,
}

PHOTO = {
    "id": "5001",
    "uri": "https://media.ringcentral.com/restapi/v1.0/account/37439510/extension/62264425016/"
    "message-store/1004/content/5001",
    "contentType": "image/jpeg",
    "size": 3,
    "problem": None,
    "note": None,
}


def dump_table(path: Path, table: str) -> list[Any]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT * FROM {table}").fetchall()


def url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def db(*args: str) -> Result:
    ambient: dict[str, str | None] = {key: None for key in os.environ if key.startswith("RCINBOX_")}
    return CliRunner().invoke(app, list(args), env=ambient | NO_SETTINGS | {"COLUMNS": "200"})


async def test_an_archive_of_0_1_0_is_upgraded_with_nothing_lost(tmp_path: Path) -> None:
    path = v0_archive(tmp_path / "data")
    before = dump(path)
    assert before["alembic_version"] == [] and len(before["messages"]) == 4
    async with await Store.open(url(path)) as store:
        early = await store.find_message("62264425016", "1001")
        later = await store.find_message("62264425016", "1002")
        pending = await store.find_message("62264425016", "1004")
        report = await store.verify_decisions()
    after = dump(path)
    assert after["alembic_version"] == [(migrate.head(),)]
    for table in TABLES:
        old = before[table]
        added = ADDED.get(table, 0)
        new = [row[: len(row) - added] for row in after[table]]
        assert new == old, table  # every row, every value, the raw payloads byte for byte
    # 0004: old decisions and opt-outs were not classified; old outbox rows are replies
    assert {row[-4:] for row in after["decisions"]} == {(None, None, None, None)}
    assert {row[-2:] for row in after["opt_outs"]} <= {(None, None)}
    assert {row[-3:-1] for row in after["outbox"]} <= {("reply", None)}
    assert {row[-1] for row in after["outbox"]} == {None}  # 0009: no replica holds any of them
    assert after["outbox"] and after["opt_outs"]  # the 0.1.0 archive has rows there to keep
    # 0005: old outcomes are final: no attempt, nothing due, no error
    assert [row[-4:-1] for row in after["attachments"]] == [(0, None, None)]
    # 0010: the files stay where they are (path kept above), claimed by no replica, no body added
    assert [row[-1] for row in after["attachments"]] == [None]
    assert dump_table(path, "attachment_bodies") == []
    # the marker rcinbox 0.1.0 put in the catch-up's envelope became the column (raw left as it was)
    assert [row[-3] for row in after["messages"]] == [1, 0, 0, 0]
    # the announced attachments and the envelope's timestamp were parsed from raw into columns
    announced = [json.loads(row[-2]) for row in after["messages"]]
    assert announced == [[], [], [], [PHOTO]]
    assert [row[-1] for row in after["messages"]] == [
        "2026-12-01 09:29:00.000000",
        *["2026-12-01 09:29:58.000000"] * 3,
    ]
    assert pending is not None and pending.state == "archived"  # its download is still to be checked
    assert pending.announced == (
        AttachmentRef("5001", PHOTO["uri"], "image/jpeg", 3),
    ) and pending.inbound().age == timedelta(seconds=1)
    assert (
        early is not None
        and early.before_first_start
        and '"rcinboxBeforeFirstStart": true' in before["messages"][0][14]
    )
    assert later is not None and not later.before_first_start
    assert report.ok and report.decisions == 3  # the hash chain over the raw payloads still holds
    async with await Store.open(url(path)):  # a second open is a no-op
        pass
    assert dump(path) == after


async def test_an_archived_message_without_its_attachment_rows_gets_queued_downloads(
    tmp_path: Path,
) -> None:
    """0005: a message past ``received`` whose announced attachment has no row gets a ``pending``
    download (the worker fetches it); one intake found malformed is refused at once."""
    path = v0_archive(tmp_path / "data")
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DELETE FROM attachments")
        row = list(conn.execute("SELECT * FROM messages WHERE id = 4").fetchone())
        envelope = json.loads(row[14])
        bad = {"id": "7", "type": "MmsAttachment", "contentType": "image/png"}  # no uri
        envelope["body"] = {**envelope["body"], "id": "1005", "attachments": [bad]}
        row[0], row[2], row[14] = 5, "1005", json.dumps(envelope)
        conn.execute(f"INSERT INTO messages VALUES ({', '.join('?' * len(row))})", row)
    conn.close()
    async with await Store.open(url(path)) as store:
        (due,) = await store.downloads.due()
        photo = await store.attachments(4)
        malformed = await store.attachments(5)
    assert (due.message_pk, due.message_id, due.ref) == (
        4,
        "1004",
        AttachmentRef("5001", PHOTO["uri"], "image/jpeg", 3),
    )
    assert photo["5001"].state == "pending"
    assert (malformed["7"].state, malformed["7"].reason) == (
        "refused",
        "malformed: body.attachments[0].uri is missing or not a string",
    )


async def test_old_rows_get_the_announced_refs_the_code_parses_at_intake(tmp_path: Path) -> None:
    """0003 parses ``raw`` with its own copy of the rules (a migration imports nothing from
    rcinbox): for odd announcements too, the refs it backfills are those intake writes."""
    path = v0_archive(tmp_path / "data")
    uri = PHOTO["uri"]
    odd: list[object] = [
        {"id": 9, "type": "MmsAttachment", "uri": uri, "contentType": "x" * 300, "size": 10**40},
        {"id": "y" * 65, "type": "MmsAttachment", "uri": uri},
        {"id": True, "type": "MmsAttachment", "uri": uri},
        {"id": "t", "type": "Text", "contentType": "text/plain"},
        {"id": "5", "type": "MmsAttachment", "uri": uri, "size": -1},
        "junk",
    ]
    conn = sqlite3.connect(path)
    with conn:
        row = list(conn.execute("SELECT * FROM messages WHERE id = 4").fetchone())
        envelope = json.loads(row[14])
        envelope["body"] = {**envelope["body"], "id": "1005", "attachments": odd}
        row[0], row[2], row[14] = 5, "1005", json.dumps(envelope)
        conn.execute(f"INSERT INTO messages VALUES ({', '.join('?' * len(row))})", row)
        row[0], row[2] = 6, "1006"
        row[14] = json.dumps({**envelope, "body": {**envelope["body"], "id": "1006", "attachments": {}}})
        conn.execute(f"INSERT INTO messages VALUES ({', '.join('?' * len(row))})", row)
    conn.close()
    async with await Store.open(url(path)) as store:
        for message_id in ("1005", "1006"):
            stored = await store.find_message("62264425016", message_id)
            assert stored is not None
            parsed = InboundMessage.from_notification(stored.raw, "webhook")
            assert stored.announced == parsed.attachments and len(parsed.attachments) >= 1
            assert stored.inbound() == parsed


async def test_new_rows_get_the_column_and_no_marker(tmp_path: Path) -> None:
    record = {
        "id": 7,
        "direction": "Inbound",
        "from": {"phoneNumber": "+14155550101"},
        "to": [{"phoneNumber": "+16505550100"}],
        "subject": "hi",
        "creationTime": "2026-11-30T08:00:00Z",
    }
    early = InboundMessage.from_record(record, "62264425016", before_first_start=True)
    async with await Store.open(url(tmp_path / "rcinbox.db")) as store:
        assert await store.accept(early)
        stored = await store.find_message("62264425016", "7")
    assert stored is not None and stored.before_first_start
    assert "rcinboxBeforeFirstStart" not in stored.raw
    # an envelope that brings the old marker itself (a webhook, say) is not believed any more
    forged = InboundMessage.from_notification({**early.raw, "rcinboxBeforeFirstStart": True}, "webhook")
    assert not forged.before_first_start


async def test_a_fresh_database_gets_exactly_the_declared_schema(tmp_path: Path) -> None:
    """Guards future changes: a column added to schema.py without a migration fails here."""
    async with await Store.open(url(tmp_path / "rcinbox.db")) as store, store.engine.connect() as conn:

        def differences(sync: Any) -> list[Any]:
            # the search index (FTS5 and its shadow tables) is DDL of its own, not a Table: the
            # next test compares it, statement for statement, with what migration 0006 builds
            def declared(name: str | None, kind: str, parent: Any) -> bool:
                return not (kind == "table" and name in SEARCH_TABLES)

            opts = {"compare_type": True, "include_name": declared}
            context = MigrationContext.configure(sync, opts=opts)
            return list(compare_metadata(context, metadata))

        assert await conn.run_sync(differences) == []
    assert dump(tmp_path / "rcinbox.db")["alembic_version"] == [(migrate.head(),)]


async def test_an_archive_newer_than_the_code_is_refused_untouched(tmp_path: Path) -> None:
    path = newer_archive(tmp_path / "data")
    before = dump(path)
    with pytest.raises(SchemaError) as refused:
        await Store.open(url(path))
    assert str(refused.value) == refusal(path)
    assert dump(path) == before


def test_the_commands_refuse_a_newer_archive_in_one_line(tmp_path: Path) -> None:
    path = newer_archive(tmp_path / "data")
    for command in (["db", "upgrade"], ["db", "current"], ["messages"]):
        result = db(*command, "--data-dir", str(path.parent), "--env-file", os.devnull)
        assert (result.exit_code, result.output) == (2, f"error: {refusal(path)}\n"), command


def test_messages_reads_nothing_older_and_db_upgrade_brings_it_up(tmp_path: Path) -> None:
    path = v0_archive(tmp_path / "data")
    before = dump(path)
    where = ["--data-dir", str(path.parent), "--env-file", os.devnull]
    result = db("messages", *where)
    assert result.exit_code == 2
    assert result.output == (
        f"error: the archive in {path} is at schema version 0001, this rcinbox reads {migrate.head()}: "
        "run `rcinbox db upgrade` (or start `rcinbox run`, which upgrades it)\n"
    )
    assert dump(path) == before  # a reader never migrates
    current = db("db", "current", *where)
    assert current.output == (
        f"{path}: schema version 0001; `rcinbox db upgrade` brings it to {migrate.head()} "
        "(made before versioning)\n"
    )
    upgraded = db("db", "upgrade", *where)
    assert (upgraded.exit_code, upgraded.output) == (
        0,
        f"upgraded the archive in {path} from schema version 0001 (made before versioning) to "
        f"{migrate.head()}\n",
    )
    again = db("db", "upgrade", *where)
    assert again.output == f"the archive in {path} is up to date (schema version {migrate.head()})\n"
    assert db("db", "current", *where).output == f"{path}: schema version {migrate.head()}, up to date\n"
    listed = db("messages", "--json", *where)
    assert listed.exit_code == 0 and '"text": "sent before the first start"' in listed.output


def test_db_upgrade_creates_an_archive_and_current_says_when_there_is_none(tmp_path: Path) -> None:
    where = ["--data-dir", str(tmp_path / "data"), "--env-file", os.devnull]
    path = tmp_path / "data" / "rcinbox.db"
    none = db("db", "current", *where)
    assert none.output == f"no archive at {path} yet (this rcinbox uses schema version {migrate.head()})\n"
    assert not path.exists()
    created = db("db", "upgrade", *where)
    assert created.output == f"upgraded the archive in {path} from no archive to {migrate.head()}\n"


def test_head_is_the_newest_migration() -> None:
    assert migrate.scripts_head() == migrate.HEAD


def test_a_fresh_archive_is_what_the_migrations_build(tmp_path: Path) -> None:
    """A first start creates the schema at the head at once: statement for statement what every
    migration from the baseline on builds (SQLite keeps each table's CREATE statement)."""
    asyncio.run(opened(url(tmp_path / "fresh.db")))
    engine = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    with engine.begin() as conn:
        alembic_command.upgrade(migrate.config(conn), "head")
    engine.dispose()
    fresh, migrated = schema_of(tmp_path / "fresh.db"), schema_of(tmp_path / "migrated.db")
    assert {"alembic_version", "messages", "outbox", "ix_outbox_ledger"} <= {name for name, _ in fresh}
    assert {"messages_fts", "messages_search", "messages_fts_insert", "opt_out_lifts"} <= {
        n for n, _ in fresh
    }
    assert fresh == migrated
    assert dump(tmp_path / "fresh.db")["alembic_version"] == [(migrate.head(),)]


def schema_of(path: Path) -> list[tuple[str, str]]:
    """Every table and index with its statement, spacing and quoting aside (a column that a
    migration added reads ``…, about VARCHAR(64), …`` either way)."""
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").fetchall()
    conn.close()
    return [(name, " ".join(sql.replace('"', "").replace("(", "( ").split())) for name, sql in rows]


async def opened(database_url: str, *, upgrade: bool = True) -> None:
    await (await Store.open(database_url, upgrade=upgrade)).close()


def test_alembic_is_loaded_only_to_migrate(tmp_path: Path) -> None:
    """A first start (an empty data directory) and every later one: Alembic stays unloaded."""
    probe = """
import asyncio, sys
from rcinbox.store import Store

async def main(url: str) -> None:
    for upgrade in (True, True, False):  # created, opened, opened by a reader
        await (await Store.open(url, upgrade=upgrade)).close()
    print(sorted(m for m in sys.modules if m == "alembic" or m.startswith("alembic.")))

asyncio.run(main(sys.argv[1]))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe, url(tmp_path / "rcinbox.db")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")
    asyncio.run(opened(url(tmp_path / "rcinbox.db"), upgrade=False))  # at the head
