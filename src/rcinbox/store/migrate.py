"""The archive's schema version: Alembic migrations shipped in :mod:`rcinbox.store.migrations`.

Every archive records its version in ``alembic_version``. :func:`upgrade` (run by
:meth:`Store.open <rcinbox.store.Store.open>` at every start and by ``rcinbox db upgrade``) brings
it to the code's head in one write transaction (on SQLite, ``BEGIN IMMEDIATE``: two processes
starting at once upgrade one after the other, the second finds nothing to do):

- an empty database gets the schema at the head at once: the tables of ``schema.py`` and the
  version (exactly what running every migration from the baseline builds: tested, statement for
  statement);
- an archive made before versioning (rcinbox 0.1.0: the tables are there, no version) is stamped
  ``0001`` (its schema is the baseline's), then upgraded;
- an archive whose version this code does not know, written by a newer rcinbox, is refused with
  :class:`~rcinbox.errors.SchemaError` before anything is touched: the old code cannot know what
  the new columns mean.

:func:`check` is for readers (``rcinbox messages``): it changes nothing and raises
:class:`~rcinbox.errors.SchemaError` unless the archive is exactly at the head.

The code's head is :data:`~rcinbox.store.migrations.HEAD`, and an archive already there (every
start but the first after a release with a migration) is recognised by reading
``alembic_version`` alone: Alembic, with its templates and script loading, is imported only when
there is something to migrate or to explain (``tests/unit/test_migrations.py`` checks that
``HEAD`` is the newest migration): a first start and every later one leave it unloaded.

Alembic is configured here, in code (no ``alembic.ini``), and runs on the store's own async
engine through ``run_sync``. Writing a migration: add ``versions/NNNN_what.py`` (portable
operations only: PostgreSQL must run it too; ``op.batch_alter_table`` for ALTERs SQLite lacks), set
the column in ``schema.py`` and ``migrations.HEAD`` to its revision, and run
``tests/unit/test_migrations.py``: it fails while the migrated schema and ``schema.py`` differ.
On SQLite, a batch operation that has to copy a table (anything beyond adding a column or an
index) drops the old table, and with foreign keys on that cascades to the rows referencing it:
such a migration must turn foreign keys off first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.errors import SchemaError
from rcinbox.store.engine import reading, transaction, where
from rcinbox.store.migrations import HEAD
from rcinbox.store.schema import metadata

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("rcinbox.store")
BASELINE = "0001"  # the schema of rcinbox 0.1.0, which kept no version
MIGRATIONS = Path(__file__).with_name("migrations")
version_table = Table(  # as Alembic creates it (alembic.runtime.migration)
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


@dataclass(frozen=True)
class Version:
    """Where an archive stands: ``current`` (``None``: no archive yet; :data:`BASELINE` for one
    made before versioning) and the code's ``head``."""

    where: str
    current: str | None
    head: str
    before_versioning: bool = False

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest schema version this code knows."""
    return HEAD


def scripts_head() -> str | None:
    """The head of the migration scripts, as Alembic finds it (what :data:`HEAD` must say)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config()).get_current_head()


async def version(engine: AsyncEngine) -> Version:
    """Where the archive behind ``engine`` stands; :class:`SchemaError` if it is newer than the code."""
    async with reading(engine) as conn:
        return await conn.run_sync(_version, _where(engine))


async def check(engine: AsyncEngine) -> None:
    """For readers: :class:`SchemaError` (what to run) unless the archive is at the code's head."""
    found = await version(engine)
    if found.current is None:
        raise SchemaError(f"no archive in {found.where} yet: run `rcinbox run` or `rcinbox db upgrade` first")
    if not found.up_to_date:
        raise SchemaError(
            f"the archive in {found.where} is at schema version {found.current}, this rcinbox reads "
            f"{found.head}: run `rcinbox db upgrade` (or start `rcinbox run`, which upgrades it)"
        )


async def upgrade(engine: AsyncEngine) -> tuple[Version, Version]:
    """Bring the archive to the code's head, in one transaction; where it stood before and after."""
    async with transaction(engine) as conn:
        before, after = await conn.run_sync(_upgrade, _where(engine))
    if before.current is None:  # a new archive: nothing to tell at every first start
        log.debug("created the archive in %s (schema version %s)", after.where, after.current)
    elif before.current != after.current:
        log.info(
            "upgraded the archive in %s from schema version %s%s to %s",
            after.where,
            before.current,
            " (made before versioning)" if before.before_versioning else "",
            after.current,
            extra={"action": "store.upgraded"},
        )
    return before, after


def _upgrade(conn: Connection, where: str) -> tuple[Version, Version]:
    before = _version(conn, where)
    if before.current is None:
        _create_at_head(conn)
    elif not before.up_to_date:
        from alembic import command

        cfg = config(conn)
        if before.before_versioning:
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, "head")
    return before, _version(conn, where)


def _create_at_head(conn: Connection) -> None:
    """An empty database: ``schema.py``'s tables and the version table as Alembic makes it."""
    metadata.create_all(conn)
    version_table.create(conn)
    conn.execute(version_table.insert().values(version_num=HEAD))


def _version(conn: Connection, where: str) -> Version:
    recorded = _recorded(conn)
    if recorded == [HEAD]:  # the usual case, told without loading Alembic
        return Version(where, HEAD, HEAD)
    if not recorded:  # no version: an empty database, or one made before versioning
        made_before = inspect(conn).has_table("messages")
        return Version(where, BASELINE if made_before else None, HEAD, before_versioning=made_before)
    return _version_from_scripts(conn, where)


def _version_from_scripts(conn: Connection, where: str) -> Version:
    """An archive at another version than the head: which one, as Alembic reads it."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(config())
    code_head = scripts.get_current_head()
    assert code_head is not None
    current = MigrationContext.configure(conn).get_current_revision()
    assert current is not None  # (an archive without a version is told by _version)
    if current not in {script.revision for script in scripts.walk_revisions()}:
        raise SchemaError(
            f"the archive in {where} is at schema version {current}, newer than this rcinbox knows "
            f"(up to {code_head}): a newer rcinbox wrote it; upgrade rcinbox to use it"
        )
    return Version(where, current, code_head)


def _recorded(conn: Connection) -> list[str] | None:
    """The versions ``alembic_version`` holds (``None``: no such table)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _where(engine: AsyncEngine) -> str:
    return where(engine)
