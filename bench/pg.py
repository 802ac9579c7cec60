"""A throwaway PostgreSQL cluster: ``initdb`` into a temporary directory (as the ``postgres`` user
when run as root: PostgreSQL refuses root), listening on a Unix socket in that directory only (no
TCP port: two clusters never collide), stopped and deleted at the end. The tests' cluster has
``fsync``, ``synchronous_commit`` and ``full_page_writes`` off (speed, nothing to keep); a durable
one (the benchmark's) keeps the server's defaults, as an operator runs it.

The ``replicas`` benchmark and the tests (``tests/kits/pg_kit.py`` makes it a session fixture)
share it. :meth:`Cluster.create` gives a new database, empty or already at the code's schema
(copied from a template :func:`start_cluster` migrates once)."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

USER = "rcinbox"
PORT = 5432  # the socket's name (.s.PGSQL.5432); nothing listens on TCP
TEMPLATE = "rcinbox_head"  # the code's schema, migrated once per cluster
PG_PREFIX = "rcinbox-pg-"  # the cluster's temporary directory (its socket is in there)


def pg_bindir() -> Path | None:
    """The directory of ``initdb``/``pg_ctl`` (the newest installed version), or ``None``."""
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False)
        bindir = Path(out.stdout.strip())
        if (bindir / "initdb").exists():
            return bindir
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return candidates[-1].parent if candidates else None


@dataclass
class Cluster:
    root: Path
    bindir: Path
    names: Iterator[int] = field(default_factory=itertools.count)

    @property
    def socket_dir(self) -> str:
        return str(self.root)

    def url(self, database: str, *, password: str | None = None) -> str:
        secret = f":{password}" if password else ""
        return f"postgresql+asyncpg://{USER}{secret}@/{database}?host={self.root}&port={PORT}"

    def psql(self, sql: str, database: str = "postgres") -> None:
        command = [str(self.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        command += ["-h", str(self.root), "-p", str(PORT), "-U", USER, "-d", database, "-c", sql]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def query(self, database: str, sql: str) -> list[list[str]]:
        """The rows ``sql`` returns in ``database``, each a list of its values as text."""
        command = [str(self.bindir / "psql"), "-X", "-At", "-F", "\t", "-h", self.socket_dir, "-p", str(PORT)]
        command += ["-U", USER, "-d", database, "-c", sql]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def create(self, *, empty: bool) -> str:
        """A new database's name: empty, or at the code's schema."""
        name = f"t{os.getpid()}_{next(self.names)}"
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE {"template0" if empty else TEMPLATE}')
        return name

    def drop(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(*command: str) -> None:
    subprocess.run(_as_postgres([*command]), check=True, capture_output=True, text=True)


def start_cluster(*, durable: bool = False) -> Cluster:
    """A running cluster with the template database migrated (``durable``: the server's defaults
    for ``fsync`` and the like, else off); ``RuntimeError`` when PostgreSQL is not installed
    (saying what to install) or does not start."""
    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL is not installed: the PostgreSQL tests and the replicas benchmark need its "
            "server binaries (`apt-get install -y postgresql`; `make test` installs it)."
        )
    root = Path(tempfile.mkdtemp(prefix=PG_PREFIX))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    try:
        _run(str(bindir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses='' -k {root} -p {PORT} -c max_connections=200"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start")
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {exc.stderr or exc.stdout}") from exc
    cluster = Cluster(root, bindir)
    cluster.psql(f"CREATE DATABASE {TEMPLATE}")
    asyncio.run(_migrate(cluster.url(TEMPLATE)))
    return cluster


async def _migrate(url: str) -> None:
    """The template: the code's schema, nothing else (each store adds its own chain head)."""
    from rcinbox.store import migrate
    from rcinbox.store.engine import create_engine

    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def stop_cluster(cluster: Cluster) -> None:
    data = str(cluster.root / "data")
    stop = [str(cluster.bindir / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]
    subprocess.run(_as_postgres(stop), check=False, capture_output=True)
    shutil.rmtree(cluster.root, ignore_errors=True)
