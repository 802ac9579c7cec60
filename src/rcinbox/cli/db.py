"""``rcinbox db``: the archive's schema version (``current``) and bringing it to this code's (``upgrade``).

``rcinbox run`` upgrades the archive at every start, so ``db upgrade`` is for doing it ahead of
time (before the first start of a new release, or for ``rcinbox messages``, which only reads).
Both read the same settings as ``rcinbox messages`` (no RingCentral credentials). ``upgrade``
takes the data directory's lock, like the service: it never changes the schema under a running
rcinbox. Imports are deferred to the commands, so ``rcinbox --help`` stays quick.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from rcinbox.settings import Settings

T = TypeVar("T")
app = typer.Typer(no_args_is_help=True, help="The archive's schema version: show it, upgrade it.")
DataDir = Annotated[
    str | None, typer.Option(help="Data directory (its rcinbox.db). Env: RCINBOX_DATA_DIR.", metavar="PATH")
]
DatabaseUrl = Annotated[
    str | None, typer.Option(help="Archive database URL. Env: RCINBOX_DATABASE_URL.", metavar="URL")
]
EnvFile = Annotated[
    Path | None,
    typer.Option(
        help="Read settings from this .env file too (it must exist). Default: ./.env when present.",
        metavar="PATH",
    ),
]


@app.command()
def upgrade(data_dir: DataDir = None, database_url: DatabaseUrl = None, env_file: EnvFile = None) -> None:
    """Bring the archive's schema to this rcinbox's version (creating the archive if there is none)."""
    import asyncio

    from rcinbox.datalock import data_dir_lock
    from rcinbox.errors import DataDirInUse
    from rcinbox.private import private_dir
    from rcinbox.store import migrate

    settings = _settings(env_file, data_dir, database_url)
    try:
        private_dir(settings.data_dir)
        with data_dir_lock(settings.data_dir):
            before, after = asyncio.run(_run(settings.database_url, migrate.upgrade))
    except (DataDirInUse, OSError) as exc:
        _fail(exc, 1)
    if before.current == after.current:
        typer.echo(f"the archive in {after.where} is up to date (schema version {after.current})")
        return
    start = "no archive" if before.current is None else f"schema version {before.current}"
    stamped = " (made before versioning)" if before.before_versioning else ""
    typer.echo(f"upgraded the archive in {after.where} from {start}{stamped} to {after.current}")


@app.command()
def current(data_dir: DataDir = None, database_url: DatabaseUrl = None, env_file: EnvFile = None) -> None:
    """Show the archive's schema version and whether it is this rcinbox's (changes nothing)."""
    import asyncio

    from rcinbox.cli.messages import sqlite_file
    from rcinbox.store import migrate

    settings = _settings(env_file, data_dir, database_url)
    path = sqlite_file(settings.database_url)
    if path is not None and not path.is_file():
        typer.echo(f"no archive at {path} yet (this rcinbox uses schema version {migrate.head()})")
        return
    found = asyncio.run(_run(settings.database_url, migrate.version))
    if found.current is None:
        state = f"no archive yet (this rcinbox uses schema version {found.head})"
    elif found.up_to_date:
        state = f"schema version {found.current}, up to date"
    else:
        state = f"schema version {found.current}; `rcinbox db upgrade` brings it to {found.head}"
    stamped = " (made before versioning)" if found.before_versioning else ""
    typer.echo(f"{found.where}: {state}{stamped}")


async def _run(database_url: str, step: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """``step`` on an engine for ``database_url``; a schema that does not fit is exit status 2."""
    from rcinbox.errors import ConfigError, SchemaError, StoreError
    from rcinbox.store.engine import create_engine

    try:
        engine = create_engine(database_url)
    except ConfigError as exc:  # no such backend, another driver, asyncpg missing
        _fail(exc, 2)
    try:
        return await step(engine)
    except SchemaError as exc:
        _fail(exc, 2)
    except StoreError as exc:
        _fail(exc, 1)
    finally:
        await engine.dispose()


def _settings(env_file: Path | None, data_dir: str | None, database_url: str | None) -> Settings:
    from rcinbox.cli.messages import archive_settings
    from rcinbox.errors import ConfigError
    from rcinbox.settings import env_file_to_read

    try:
        chosen = env_file_to_read(env_file)
        return archive_settings(os.environ, chosen, data_dir=data_dir, database_url=database_url)
    except ConfigError as exc:
        _fail(exc, 2)


def _fail(exc: Exception, code: int) -> NoReturn:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code) from None
