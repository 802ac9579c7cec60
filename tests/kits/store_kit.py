"""An archive for a test, on each backend: ``backend`` (``sqlite``, ``postgresql``) parametrizes
``store_url`` (a fresh database's URL, for a test that opens and closes the store itself, e.g.
across a simulated restart) and the ``store`` fixture, open for the test. Registered for every
folder by ``pytest_plugins`` in tests/conftest.py; a module that needs another store, e.g. on a
fake clock, defines its own ``store`` fixture from ``store_url``, which wins.

SQLite: a file in the test's temporary directory (``db_url(tmp_path)``). PostgreSQL: a database
of its own in the session's throwaway cluster (:mod:`pg_kit`), at the code's schema (``empty``
marks a test that wants an empty one, e.g. to migrate), dropped after the test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pg_kit import Cluster, pg_cluster

from rcinbox.store import Store

BACKENDS = ("sqlite", "postgresql")

__all__ = [
    "backend",
    "db_url",
    "on_both_backends",
    "pg_cluster",
    "pg_database",
    "sqlite_only",
    "store",
    "store_url",
]


def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/db/rcinbox.db"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def pg_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database's URL: at the code's schema, or empty for a test marked
    ``@pytest.mark.empty_database``."""
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    name = cluster.create(empty=request.node.get_closest_marker("empty_database") is not None)
    yield cluster.url(name)
    cluster.drop(name)


@pytest.fixture
def store_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    if backend == "postgresql":
        url: str = request.getfixturevalue("pg_database")
        return url
    return db_url(tmp_path)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    async with await Store.open(store_url) as opened:
        yield opened


# An end-to-end test (tests/e2e: the ``e2e`` harness) that runs on PostgreSQL too.
on_both_backends = pytest.mark.parametrize("e2e_backend", BACKENDS)

# A test of something only SQLite has (its PRAGMAs, FTS5 tables, WAL file): on SQLite alone.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])
