"""``rcinbox messages``: the archive, newest first, with each message's decision and reply state.

Reads only the database (``Settings.database_url``, by default the SQLite file in the data
directory): no RingCentral credentials are needed, so :func:`archive_settings` fills the three
credential settings with a placeholder. Output is a rich table for people or, with ``--json``,
one JSON array of objects (:func:`entry_json`) for scripts.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import make_url

from rcinbox.settings import REQUIRED, Settings
from rcinbox.store import ArchiveEntry, Store

NOT_NEEDED = "(not needed to read the archive)"
TEXT_MIN_WIDTH = 20
DECISION_MAX_WIDTH = 16


class NoArchive(LookupError):
    """The database file does not exist yet."""


def archive_settings(environ: Mapping[str, str], env_file: Path | None, **flags: str | None) -> Settings:
    """Settings as ``rcinbox run`` would read them, minus the credentials this command never uses."""
    return Settings.from_env(environ, env_file, **dict.fromkeys(REQUIRED, NOT_NEEDED), **flags)


def sqlite_file(database_url: str) -> Path | None:
    """The file of an SQLite URL (``None`` for other databases and in-memory SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


async def read_archive(database_url: str, limit: int) -> list[ArchiveEntry]:
    """The latest ``limit`` archived messages, newest first; :class:`NoArchive` when there is none."""
    path = sqlite_file(database_url)
    if path is not None and not path.is_file():
        raise NoArchive(f"no archive at {path} yet: run `rcinbox run` (or `rcinbox demo`) first")
    store = await Store.open(database_url)
    try:
        return await store.recent(limit)
    finally:
        await store.close()


def entry_json(entry: ArchiveEntry) -> dict[str, Any]:
    decision = None if entry.action is None else {"action": entry.action, "reason": entry.reason}
    return {
        "id": entry.pk,
        "messageId": entry.message_id,
        "extensionId": entry.extension_id,
        "createdAt": entry.created_at.isoformat(),
        "from": entry.sender,
        "fromName": entry.sender_name,
        "to": entry.receiving_number,
        "text": entry.text,
        "attachments": entry.attachments,
        "state": entry.state,
        "decision": decision,
        "replyState": entry.reply_state,
        "replyError": entry.reply_error,
        "lastError": entry.last_error,
    }


def archive_json(entries: list[ArchiveEntry]) -> str:
    return orjson.dumps([entry_json(e) for e in entries], option=orjson.OPT_INDENT_2).decode()


def archive_table(entries: list[ArchiveEntry]) -> Table:
    """Readable at 80 columns: the text column keeps room (``min_width``), the others stack two
    short lines (time over extension, sender over receiving number, decision over reply)."""
    grid = Table(title=f"rcinbox archive: {len(entries)} latest messages, newest first", title_justify="left")
    grid.add_column("time\n[dim]ext[/dim]", no_wrap=True)
    grid.add_column("from\n[dim]to[/dim]", no_wrap=True)
    grid.add_column("text", ratio=1, min_width=TEXT_MIN_WIDTH, overflow="fold")
    grid.add_column("att", justify="right", no_wrap=True)
    grid.add_column("decision\n[dim]reply[/dim]", max_width=DECISION_MAX_WIDTH, overflow="fold")
    for entry in entries:
        name = f" [dim]{_safe(entry.sender_name)}[/dim]" if entry.sender_name else ""
        grid.add_row(
            f"{_local(entry.created_at)}\n[dim]{_safe(entry.extension_id)}[/dim]",
            f"{_safe(entry.sender) or '(none)'}\n[dim]{_safe(entry.receiving_number or '?')}[/dim]",
            (_safe(_flat(entry.text)) or "[dim](no text)[/dim]") + name,
            str(entry.attachments) if entry.attachments else "",
            f"{_decision(entry)}\n[dim]{_safe(_reply(entry))}[/dim]",
        )
    return grid


def _reply(entry: ArchiveEntry) -> str:
    if entry.reply_state is None:
        return ""
    return f"{entry.reply_state}: {entry.reply_error}" if entry.reply_error else entry.reply_state


def _decision(entry: ArchiveEntry) -> str:
    if entry.action is None:
        waiting = f"{entry.state}: {entry.last_error}" if entry.last_error else entry.state
        return f"[yellow]{_safe(waiting)}[/yellow]"
    return _safe(f"{entry.action}: {entry.reason}")


def _safe(value: str) -> str:
    """Archived data as a table cell shows it: never rich markup (a text "[/]" would stop the
    command, "[red]" would restyle it), never a control character (an ESC would reach the
    terminal): those show as U+FFFD."""
    shown = "".join("\ufffd" if unicodedata.category(c) == "Cc" and c != "\n" else c for c in value)
    return escape(shown)


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%m-%d %H:%M")


def _flat(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
