"""``rcinbox messages``: the archive, newest first, with each message's decision and reply state.

Reads only the database (``Settings.database_url``, by default the SQLite file in the data
directory): no RingCentral credentials are needed, so :func:`archive_settings` fills the three
credential settings with a placeholder. Output is a rich table for people or, with ``--json``,
one JSON array of objects (:func:`entry_json`) for scripts. A decision taken with smart replies
shows, under it, the intent the classifier chose, its confidence, the reply chosen when it is not
that intent's own, and whether an escalation was queued; JSON adds ``intent``, ``confidence``,
``backend`` and ``replyKind`` to the decision and ``escalation`` (``to``, ``state``) to the entry.

Times are shown with the year and the time zone, in :func:`display_zone`: ``--timezone`` when
given, else the vacation's time zone of the rules file (the owner's), else this machine's. JSON
keeps ``createdAt`` in UTC (ISO 8601), lists every attachment (its absolute ``path`` under the
data directory, or ``null`` with ``storage`` ``database`` when its bytes are in the database's
``attachment_bodies`` under its ``sha256``; ``contentType``, ``size``, ``sha256``; a refused or
failed one with its ``reason``; one still downloading is ``pending``, with ``lastError`` once an
attempt failed) and the reply text as it was sent (``replyText``, ``null`` until it was). The
table notes attachments still downloading ("1 downloading") and those given up on ("1 failed").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from rich.cells import cell_len
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from rcinbox.errors import ConfigError, RulesError
from rcinbox.settings import REQUIRED, Settings
from rcinbox.store.records import ArchiveEntry, AttachmentRecord

NOT_NEEDED = "(not needed to read the archive)"
PLAIN_SQLITE = ("sqlite+aiosqlite:///", "sqlite:///")
Row = tuple[str, str, str, str, str, str]  # time, sender, name, receiving number, text, decision
TEXT_MIN_WIDTH = 16


class NoArchive(LookupError):
    """The database file does not exist yet."""


def archive_settings(environ: Mapping[str, str], env_file: Path | None, **flags: str | None) -> Settings:
    """Settings as ``rcinbox run`` would read them, minus the credentials this command never uses."""
    return Settings.from_env(environ, env_file, **dict.fromkeys(REQUIRED, NOT_NEEDED), **flags)


def display_zone(rules: Path, given: str | None) -> tzinfo | None:
    """The zone times are shown in: ``given`` (an IANA name), else the rules' vacation time zone,
    else ``None`` (this machine's local time)."""
    if given is not None:
        try:
            return ZoneInfo(given)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"--timezone must be an IANA time zone like America/New_York, got {given!r}"
            ) from None
    if not rules.is_file():
        return None
    from rcinbox.rules import load_rules  # only for a rules file (and then its phone numbers)

    try:
        return load_rules(rules).vacation.timezone
    except (RulesError, OSError):
        return None


def sqlite_file(database_url: str) -> Path | None:
    """The file of an SQLite URL (``None`` for other databases and in-memory SQLite)."""
    for prefix in PLAIN_SQLITE:  # the default URL, read without loading SQLAlchemy
        rest = database_url.removeprefix(prefix)
        if rest != database_url and rest and not set("?#%").intersection(rest) and rest != ":memory:":
            return Path(rest)
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def read_archive(database_url: str, limit: int) -> list[ArchiveEntry]:
    """The latest ``limit`` archived messages, newest first; :class:`NoArchive` when there is none.
    An SQLite archive at this code's schema is read with ``sqlite3``
    (:mod:`rcinbox.store.archive_file`); anything else through the store, which also says what is
    wrong with an archive it cannot read."""
    path = sqlite_file(database_url)
    if path is not None and not path.is_file():
        raise NoArchive(f"no archive at {path} yet: run `rcinbox run` (or `rcinbox demo`) first")
    if path is not None:
        from rcinbox.store import archive_file

        try:
            return archive_file.recent(path, limit)
        except archive_file.NotReadHere:
            pass
    import asyncio

    return asyncio.run(_read_through_store(database_url, limit))


async def _read_through_store(database_url: str, limit: int) -> list[ArchiveEntry]:
    from rcinbox.store import Store

    store = await Store.open(database_url, upgrade=False)  # a reader never migrates
    try:
        return await store.recent(limit)
    finally:
        await store.close()


def entry_json(entry: ArchiveEntry, data_dir: Path) -> dict[str, Any]:
    decision = (
        None if entry.action is None else {"action": entry.action, "reason": entry.reason} | _smart(entry)
    )
    escalation = (
        None if entry.escalation_to is None else {"to": entry.escalation_to, "state": entry.escalation_state}
    )
    return {
        "id": entry.pk,
        "messageId": entry.message_id,
        "extensionId": entry.extension_id,
        "createdAt": entry.created_at.isoformat(),
        "from": entry.sender,
        "fromName": entry.sender_name,
        "to": entry.receiving_number,
        "text": entry.text,
        "attachments": [attachment_json(record, data_dir) for record in entry.files],
        "state": entry.state,
        "decision": decision,
        "replyState": entry.reply_state,
        "replyError": entry.reply_error,
        "replyText": entry.reply_text,
        "escalation": escalation,
        "lastError": entry.last_error,
    }


def _smart(entry: ArchiveEntry) -> dict[str, Any]:
    """What the classifier understood (all ``None`` for a decision taken without it)."""
    return {
        "intent": entry.intent,
        "confidence": entry.confidence,
        "backend": entry.backend,
        "replyKind": entry.reply_kind,
    }


def attachment_json(record: AttachmentRecord, data_dir: Path) -> dict[str, Any]:
    path = None if record.path is None else str((data_dir / record.path).absolute())
    return {
        "id": record.attachment_id,
        "state": record.state,
        "path": path,
        "storage": record.storage,
        "contentType": record.content_type,
        "size": record.size,
        "sha256": record.sha256,
        "reason": record.reason,
        "lastError": record.last_error,
    }


def archive_json(entries: list[ArchiveEntry], data_dir: Path) -> str:
    return orjson.dumps([entry_json(e, data_dir) for e in entries], option=orjson.OPT_INDENT_2).decode()


def archive_table(entries: list[ArchiveEntry], zone: tzinfo | None, width: int) -> Table:
    """Columns of two or three short lines (date over time over extension, sender over receiving
    number, decision over reply); the sender's name has a column of its own. Names and reasons
    wrap between words only (see :func:`_layout`)."""
    rows = [_cells(entry, zone) for entry in entries]
    name_column, pinned = _layout(rows, width)
    widths: list[int | None] = list(pinned) if pinned else [None] * (3 if name_column else 2)
    sender_width, *others = widths
    grid = Table(title=f"rcinbox archive: {len(entries)} latest messages, newest first", title_justify="left")
    grid.add_column("time\n[dim]ext[/dim]", no_wrap=True)
    header = "from\n[dim]to[/dim]" if name_column else "from\nname\n[dim]to[/dim]"
    grid.add_column(header, width=sender_width, overflow="fold")
    if name_column:
        grid.add_column("name", width=others.pop(0), overflow="fold")
    grid.add_column("text", min_width=TEXT_MIN_WIDTH, overflow="fold")
    grid.add_column("decision\n[dim]reply[/dim]", width=others.pop(0), overflow="fold")
    for when, sender, name, receiver, text, decision in rows:
        if name_column:
            grid.add_row(when, f"{sender}\n{receiver}", name, text, decision)
        else:
            grid.add_row(when, "\n".join(filter(None, (sender, name, receiver))), text, decision)
    return grid


def _layout(rows: list[Row], width: int) -> tuple[bool, list[int] | None]:
    """Whether the name gets a column of its own, and the widths of the sender, (name) and
    decision columns (``None``: each as wide as its longest line, everything fits).

    When not everything fits, those columns get the width of their longest word (no name, number
    or reason is split) and the text the rest (at least :data:`TEXT_MIN_WIDTH`); room the text
    does not need widens the name, then the decision column. When even that does not fit, the
    name goes on its own line under the sender's number instead; on a console narrower still,
    rich folds what it must."""
    plain = _plain(rows)
    when, number_line, name_line, text_line, decision_line = _longest(plain, str.splitlines)
    if _table_width(when, number_line, name_line, text_line, decision_line) <= width:
        return True, None
    _, number, name, _, decision = _longest(plain, str.split)
    number, name, decision = max(number, len("from")), max(name, len("name")), max(decision, len("decision"))
    layouts = (
        (True, [number, name, decision], [number, name_line, decision_line]),
        (False, [max(number, name), decision], [max(number, name), decision_line]),
    )
    for name_column, fixed, natural in layouts:
        free = width - _table_width(when, *fixed, 0)  # for the text and the growth of the others
        if free >= TEXT_MIN_WIDTH:
            spare = free - max(TEXT_MIN_WIDTH, min(text_line, free))  # the text first
            for at in range(1, len(fixed)):  # then the name, then the decision
                grown = min(natural[at], fixed[at] + spare)
                spare, fixed[at] = spare - (grown - fixed[at]), grown
            return name_column, fixed
    return False, None


def _plain(rows: list[Row]) -> list[list[str]]:
    """Per column (time, sender and receiver, name, text, decision): its cells' text, markup read."""
    columns = list(zip(*rows, strict=True)) or [()] * 6
    when, senders, names, receivers, texts, decisions = (
        [Text.from_markup(cell).plain for cell in cells] for cells in columns
    )
    return [when, [*senders, *receivers], names, texts, decisions]


def _longest(groups: list[list[str]], split: Callable[[str], list[str]]) -> list[int]:
    """Per column (see :func:`_plain`): its longest part (line or word)."""
    return [max((cell_len(part) for cell in cells for part in split(cell)), default=0) for cells in groups]


def _table_width(*columns: int) -> int:
    """The table's width: the columns, a bar and two spaces of padding each, one closing bar."""
    return sum(columns) + 3 * len(columns) + 1


def _cells(entry: ArchiveEntry, zone: tzinfo | None) -> Row:
    """when, sender, name, receiving number, text, decision/reply: rich markup, input :func:`_safe`."""
    return (
        f"{_moment(entry.created_at, zone)}\n[dim]{entry.extension_id}[/dim]",
        _safe(entry.sender or "(none)"),
        _safe(entry.sender_name or ""),
        f"[dim]{_safe(entry.receiving_number or '?')}[/dim]",
        _text(entry),
        f"{_decision(entry)}\n[dim]{_safe(_reply(entry))}[/dim]",
    )


def _text(entry: ArchiveEntry) -> str:
    text = _safe(_flat(entry.text)) if entry.text.strip() else "[dim](no text)[/dim]"
    stored = sum(1 for record in entry.files if record.state == "stored") or entry.attachments
    notes = [f"+{stored} attachment{'s' if stored > 1 else ''}"] if stored else []
    for state, shown in (("pending", "downloading"), ("refused", "refused"), ("failed", "failed")):
        count = sum(1 for record in entry.files if record.state == state)
        notes += [f"{count} {shown}"] if count else []
    return text + (f"\n[dim]({', '.join(notes)})[/dim]" if notes else "")


def _reply(entry: ArchiveEntry) -> str:
    if entry.reply_state is None:
        return ""
    return f"{entry.reply_state}: {entry.reply_error}" if entry.reply_error else entry.reply_state


def _decision(entry: ArchiveEntry) -> str:
    if entry.action is None:
        waiting = f"{entry.state}: {entry.last_error}" if entry.last_error else entry.state
        return f"[yellow]{_safe(waiting)}[/yellow]"
    shown = _safe(f"{entry.action}: {entry.reason}")
    return shown if entry.intent is None else f"{shown}\n[cyan]{_safe(_understood(entry))}[/cyan]"


def _understood(entry: ArchiveEntry) -> str:
    """``urgent 0.91``, and the reply chosen when it is not the intent's own (``→ vacation``),
    and ``⇢ escalated`` when an escalation was queued."""
    parts = [str(entry.intent)]
    if entry.confidence is not None:
        parts.append(f"{entry.confidence:.2f}")
    if entry.reply_kind is not None and entry.reply_kind != entry.intent:
        parts.append(f"→ {entry.reply_kind}")
    if entry.escalation_to is not None:
        parts.append("+escalated")
    return " ".join(parts)


def _safe(value: str) -> str:
    """Archived data as a table cell shows it: never rich markup (a text "[/]" would stop the
    command, "[red]" would restyle it), never a control character (an ESC would reach the
    terminal): those show as U+FFFD."""
    shown = "".join("\ufffd" if unicodedata.category(c) == "Cc" and c != "\n" else c for c in value)
    return escape(shown)


def _moment(moment: datetime, zone: tzinfo | None) -> str:
    """``2026-12-04`` over ``09:15 EST``, in ``zone`` (``None``: this machine's local time)."""
    return moment.astimezone(zone).strftime("%Y-%m-%d\n%H:%M %Z")


def _flat(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
