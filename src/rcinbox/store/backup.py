"""An online copy of the SQLite archive (``rcinbox db backup``), taken while rcinbox runs.

SQLite's backup API (:meth:`sqlite3.Connection.backup`) copies the database page by page through
SQLite itself, so the copy is one consistent moment of the archive, committed transactions only,
WAL included; in one step (``pages=-1``) it holds a read snapshot, which in WAL mode never blocks
the service's writes. A plain file copy of ``rcinbox.db`` while rcinbox writes can miss the WAL or
catch a page half-written. The copy is written beside ``dest`` first, switched out of WAL mode
(one self-contained file, nothing to copy with it), checked, made private (0600: it holds the
messages) and only then renamed to ``dest``, so a ``dest`` that exists is always a whole backup.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from rcinbox.errors import StoreError


@dataclass(frozen=True)
class Backup:
    dest: Path
    messages: int  # archived messages in the copy
    size: int  # bytes


def backup_sqlite(source: Path, dest: Path) -> Backup:
    """Copy the archive ``source`` into the new file ``dest``; :class:`StoreError` when there is no
    archive at ``source``, ``dest`` exists already, or SQLite fails (the partial copy is removed)."""
    if not source.is_file():
        raise StoreError(f"no archive at {source}")
    if dest.exists():
        raise StoreError(f"{dest} exists already; give a new file name (a backup never overwrites)")
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        _copy(source, partial)
        messages = _check(partial)
        os.replace(partial, dest)
    except (sqlite3.Error, OSError) as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise StoreError(f"backup of {source} to {dest} failed: {exc}") from exc
    return Backup(dest, messages, dest.stat().st_size)


def _copy(source: Path, partial: Path) -> None:
    partial.unlink(missing_ok=True)  # a leftover of an interrupted backup
    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # private from the start
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)  # never creates or writes
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            dst.commit()
        finally:
            dst.close()
    finally:
        src.close()
    with open(partial, "rb") as written:
        os.fsync(written.fileno())


def _check(partial: Path) -> int:
    db = sqlite3.connect(f"{partial.resolve().as_uri()}?mode=ro", uri=True)
    try:
        (verdict,) = db.execute("PRAGMA quick_check").fetchone()
        if verdict != "ok":
            raise sqlite3.DatabaseError(f"the copy fails SQLite's quick_check: {verdict}")
        (messages,) = db.execute("SELECT count(*) FROM messages").fetchone()
        return int(messages)
    finally:
        db.close()
