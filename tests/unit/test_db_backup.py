"""``rcinbox db backup DEST``: an online copy of the SQLite archive, taken while the archive is open
and written; restored into a new data directory, ``rcinbox messages`` reads every message from it."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path

from messages_cli_kit import NO_CREDENTIALS, archive, envelope, messages
from typer.testing import CliRunner, Result

from rcinbox.cli.main import app
from rcinbox.events import InboundMessage
from rcinbox.store import Store


def db(*args: str) -> Result:
    ambient: dict[str, str | None] = {key: None for key in os.environ if key.startswith("RCINBOX_")}
    return CliRunner().invoke(app, ["db", *args], env=ambient | NO_CREDENTIALS)


def restored_ids(backup: Path, tmp_path: Path) -> list[str]:
    """The backup put back as a data directory's rcinbox.db; the message ids `rcinbox messages` shows."""
    restored = tmp_path / "restored"
    restored.mkdir()
    (restored / "rcinbox.db").write_bytes(backup.read_bytes())
    shown = messages("--json", "--data-dir", str(restored))
    assert shown.exit_code == 0, shown.output
    return [entry["messageId"] for entry in json.loads(shown.stdout)]


def test_a_backup_of_a_closed_archive_restores_every_message(tmp_path: Path) -> None:
    data = tmp_path / "data"
    archive(data)
    dest = tmp_path / "backups" / "rcinbox-1.db"
    dest.parent.mkdir()

    done = db("backup", str(dest), "--data-dir", str(data))

    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"backed up the archive in {data / 'rcinbox.db'} to {dest} (3 messages, ")
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600  # it holds the messages
    assert not Path(f"{dest}-wal").exists()  # one self-contained file
    assert [p.name for p in dest.parent.iterdir()] == ["rcinbox-1.db"]  # no partial left beside it
    assert restored_ids(dest, tmp_path) == ["1003", "1002", "1001"]


async def test_a_backup_taken_while_the_service_writes_holds_what_was_committed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await asyncio.to_thread(archive, data)
    dest = tmp_path / "online.db"
    async with await Store.open(f"sqlite+aiosqlite:///{data / 'rcinbox.db'}") as store:
        at = "2026-11-20T16:00:00.000Z"
        late = InboundMessage.from_notification(
            envelope("1004", "+14155550109", None, "Still there?", at), "websocket"
        )
        assert await store.accept(late)
        assert (data / "rcinbox.db-wal").stat().st_size > 0  # committed into the WAL, not yet into rcinbox.db

        done = await asyncio.to_thread(db, "backup", str(dest), "--data-dir", str(data))

        assert done.exit_code == 0, done.output
        assert "(4 messages, " in done.stdout
        assert len(await store.recent()) == 4  # the service's archive goes on as before
    assert await asyncio.to_thread(restored_ids, dest, tmp_path) == ["1004", "1003", "1002", "1001"]


def test_a_backup_never_overwrites_and_needs_an_archive(tmp_path: Path) -> None:
    data = tmp_path / "data"
    archive(data)
    dest = tmp_path / "taken.db"
    dest.write_text("an older backup")

    refused = db("backup", str(dest), "--data-dir", str(data))
    assert (refused.exit_code, refused.stderr) == (
        1,
        f"error: {dest} exists already; give a new file name (a backup never overwrites)\n",
    )
    assert dest.read_text() == "an older backup"

    missing = db("backup", str(tmp_path / "new.db"), "--data-dir", str(tmp_path / "nothing"))
    assert (missing.exit_code, missing.stderr) == (
        1,
        f"error: no archive at {tmp_path / 'nothing' / 'rcinbox.db'}\n",
    )
    assert not (tmp_path / "new.db").exists()


def test_only_an_sqlite_archive_is_backed_up(tmp_path: Path) -> None:
    done = db(
        "backup", str(tmp_path / "x.db"), "--database-url", "postgresql+asyncpg://app@127.0.0.1/rcinbox"
    )
    assert (done.exit_code, done.stderr) == (
        2,
        "error: only an SQLite archive is backed up here (PostgreSQL: pg_dump)\n",
    )
