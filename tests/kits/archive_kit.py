"""Archives for the schema-version tests: one as rcinbox 0.1.0 left it (``fixtures/archive_v0.sql``,
made by ``fixtures/make_archive_v0.py`` with that release's code), one a newer rcinbox wrote, and a
dump of every row as SQLite stores it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from rcinbox.store import migrate

V0 = Path(__file__).parent / "fixtures" / "archive_v0.sql"  # made by make_archive_v0.py, see there

TABLES = ("messages", "attachments", "decisions", "outbox", "opt_outs", "kv")


def v0_archive(data_dir: Path) -> Path:
    """``data_dir/rcinbox.db`` as rcinbox 0.1.0 left it: four texts (the first found by the first
    catch-up, with the marker in its envelope), three decisions, a sent reply, an opt-out."""
    data_dir.mkdir(parents=True)
    path = data_dir / "rcinbox.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(V0.read_text(encoding="utf-8"))
    conn.close()
    return path


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, as SQLite stores it (text byte for byte), and the version."""
    conn = sqlite3.connect(path)
    try:
        rows = {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in TABLES}
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        rows["alembic_version"] = (
            conn.execute("SELECT * FROM alembic_version").fetchall() if "alembic_version" in tables else []
        )
        return rows
    finally:
        conn.close()


def newer_archive(data_dir: Path) -> Path:
    """An archive a future rcinbox (schema version 0999) wrote."""
    path = v0_archive(data_dir)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('0999')")
    conn.close()
    return path


def refusal(path: Path) -> str:
    return (
        f"the archive in {path} is at schema version 0999, newer than this rcinbox knows "
        f"(up to {migrate.head()}): a newer rcinbox wrote it; upgrade rcinbox to use it"
    )
