"""A PostgreSQL database rcinbox cannot use is one line naming it, its password hidden, never a
traceback: a server that does not answer, a database that does not exist, another driver than
asyncpg; for ``rcinbox run``, ``rcinbox messages`` and ``rcinbox db``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pg_kit import Cluster
from typer.testing import CliRunner, Result
from webhook_receiver import free_port

from rcinbox.cli.main import app
from rcinbox.store import migrate

SECRET = "hunter2-secret"
PLATFORM = {  # settings `rcinbox run` needs before it opens the store (never reached)
    "RC_SERVER_URL": "http://127.0.0.1:9",
    "RC_APP_CLIENT_ID": "id",
    "RC_APP_CLIENT_SECRET": "secret",
    "RC_USER_JWT": "jwt",
}


def rcinbox(tmp_path: Path, *args: str, url: str) -> Result:
    ambient: dict[str, str | None] = {key: None for key in os.environ if key.startswith(("RCINBOX_", "RC_"))}
    env = ambient | PLATFORM | {"RCINBOX_DATABASE_URL": url, "RCINBOX_DATA_DIR": str(tmp_path / "data")}
    return CliRunner().invoke(app, [*args, "--env-file", os.devnull], env=env | {"COLUMNS": "200"})


@pytest.mark.parametrize(
    "command", [["db", "current"], ["db", "upgrade"], ["messages"], ["run", "--port", "0"]]
)
def test_a_server_that_does_not_answer_is_one_line_without_the_password(
    tmp_path: Path, command: list[str]
) -> None:
    url = f"postgresql+asyncpg://rcinbox:{SECRET}@127.0.0.1:{free_port()}/archive"
    result = rcinbox(tmp_path, *command, url=url)
    shown = f"postgresql+asyncpg://rcinbox:***@127.0.0.1:{url.split(':')[3].split('/')[0]}/archive"
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"error: cannot connect to the database {shown}: ConnectionRefusedError")
    assert result.output.count("\n") == 1 and SECRET not in result.output


def test_a_database_that_does_not_exist_is_named(tmp_path: Path, pg_cluster: Cluster) -> None:
    url = pg_cluster.url("no_such_archive", password=SECRET)
    result = rcinbox(tmp_path, "db", "upgrade", url=url)
    assert result.exit_code == 1 and result.output.count("\n") == 1 and SECRET not in result.output
    assert result.output.endswith(': database "no_such_archive" does not exist\n'), result.output


def test_another_driver_is_refused_with_the_url_to_use(tmp_path: Path) -> None:
    result = rcinbox(tmp_path, "db", "current", url=f"postgresql://rcinbox:{SECRET}@localhost/archive")
    assert (result.exit_code, SECRET in result.output) == (2, False)
    assert result.output == (
        "error: the database URL postgresql://rcinbox:***@localhost/archive names the driver 'psycopg': "
        "rcinbox talks to PostgreSQL through asyncpg (postgresql+asyncpg://user:password@host/database)\n"
    )


@pytest.mark.empty_database
def test_db_upgrade_and_current_on_postgresql_name_it_without_the_password(
    tmp_path: Path, pg_cluster: Cluster, pg_database: str
) -> None:
    url = pg_database.replace("rcinbox@", f"rcinbox:{SECRET}@")  # trust: any password is accepted
    shown = pg_database.replace("rcinbox@", "rcinbox:***@").replace("/tmp/", "%2Ftmp%2F")
    upgraded = rcinbox(tmp_path, "db", "upgrade", url=url)
    current = rcinbox(tmp_path, "db", "current", url=url)
    assert (upgraded.exit_code, current.exit_code) == (0, 0)
    assert upgraded.output == f"upgraded the archive in {shown} from no archive to {migrate.head()}\n"
    assert current.output == f"{shown}: schema version {migrate.head()}, up to date\n"
