"""The migrations on PostgreSQL: every migration from the baseline builds what a first start
creates (tables, columns, indexes, constraints, the search function), with nothing
``schema.py`` does not declare; an archive of rcinbox 0.1.0's schema (the 0.1.0 fixture's rows,
copied in) is stamped and upgraded with nothing lost, its decision chain still holding, and its
texts found by the search index migration 0008 builds."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from archive_kit import TABLES, v0_archive
from pg_kit import Cluster
from sqlalchemy import JSON, DateTime, MetaData, insert, text
from sqlalchemy.engine import Connection

from rcinbox.store import Store, migrate
from rcinbox.store.engine import create_engine
from rcinbox.store.schema import metadata

pytestmark = pytest.mark.empty_database

CATALOG = {  # the schema as PostgreSQL describes it, names aside where PostgreSQL made them up
    "columns": """SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
        FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2""",
    "indexes": """SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' ORDER BY 1, 2""",
    "constraints": """SELECT conrelid::regclass::text, contype, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2, 3""",
    "functions": """SELECT proname, pg_get_functiondef(oid) FROM pg_proc
        WHERE pronamespace = 'public'::regnamespace ORDER BY 1""",
}


def catalog(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {name: [tuple(row) for row in conn.execute(text(sql))] for name, sql in CATALOG.items()}


def differences(conn: Connection) -> list[Any]:
    """What the database has that ``schema.py`` does not declare, or the reverse (the search
    index is DDL of its own, compared with the catalog above)."""

    def declared(name: str | None, kind: str, parent: Any) -> bool:
        return not (kind == "index" and name == "ix_messages_search")

    opts = {"compare_type": True, "include_name": declared}
    return list(compare_metadata(MigrationContext.configure(conn, opts=opts), metadata))


def migrations(conn: Connection, revision: str) -> None:
    alembic_command.upgrade(migrate.config(conn), revision)


async def test_the_migrations_build_what_a_first_start_creates(pg_cluster: Cluster, pg_database: str) -> None:
    other = pg_cluster.url(pg_cluster.create(empty=True))
    async with await Store.open(pg_database) as fresh, fresh.engine.connect() as conn:
        created = await conn.run_sync(catalog)
    engine = create_engine(other)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(migrations, "head")
        async with engine.connect() as conn:
            migrated = await conn.run_sync(catalog)
            undeclared = await conn.run_sync(differences)
    finally:
        await engine.dispose()
    assert undeclared == []
    assert [row[:2] for row in created["functions"]] and created["functions"][0][
        0
    ] == "messages_search_vector"
    for part in CATALOG:
        assert migrated[part] == created[part], part


def _value(column: Any, value: Any) -> Any:
    if value is not None and isinstance(column.type, DateTime):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if value is not None and isinstance(column.type, JSON):
        return json.loads(value)
    return value


async def test_an_archive_of_0_1_0_is_upgraded_with_nothing_lost(tmp_path: Path, pg_database: str) -> None:
    source = sqlite3.connect(v0_archive(tmp_path / "data"))
    engine = create_engine(pg_database)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(migrations, "0001")
            await conn.execute(text("DROP TABLE alembic_version"))  # 0.1.0 kept no version
            tables = MetaData()
            await conn.run_sync(tables.reflect)
            for name in ("messages", "attachments", "decisions", "outbox", "opt_outs", "kv"):
                table = tables.tables[name]
                rows = source.execute(f"SELECT * FROM {name} ORDER BY 1").fetchall()
                values = [
                    {c.name: _value(c, v) for c, v in zip(table.columns, row, strict=True)} for row in rows
                ]
                if values:
                    await conn.execute(insert(table), values)
                if "id" in table.c:
                    await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), 100)"))
        before = {name: await _count(engine, name) for name in TABLES}
    finally:
        await engine.dispose()
        source.close()
    async with await Store.open(pg_database) as store:
        report = await store.verify_decisions()
        found = await store.search("first start")
        version = await migrate.version(store.engine)
        after = {name: await _count(store.engine, name) for name in TABLES}
    assert version.current == migrate.head() and before == after and after["messages"] == 4
    assert report.ok and report.decisions == 3  # the hash chain over the raw payloads still holds
    assert [hit.snippet_text for hit in found.page.items] == ["sent before the first start"]


async def _count(engine: Any, table: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
