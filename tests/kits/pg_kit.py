"""A throwaway PostgreSQL cluster for the tests (:mod:`bench.pg`, shared with the ``replicas``
benchmark): ``initdb`` into a temporary directory, started once per test session (once per xdist
worker), listening on a Unix socket in that directory only (no TCP port: workers never collide),
with ``fsync`` off, and stopped and deleted at the end.

Each test gets its own database (``CREATE DATABASE … TEMPLATE``, dropped after the test):
``pg_database()`` an empty one, or one already at the code's schema (copied from a template the
session migrates once). The backend fixtures (:mod:`store_kit`) take their URLs from here.

When the PostgreSQL binaries are missing, every PostgreSQL test FAILS with what to install
(``make test`` installs Debian's ``postgresql``): they are never skipped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.pg import PG_PREFIX, PORT, TEMPLATE, USER, Cluster, pg_bindir, start_cluster, stop_cluster

__all__ = ["PG_PREFIX", "PORT", "TEMPLATE", "USER", "Cluster", "pg_bindir", "pg_cluster", "start_cluster"]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    try:
        cluster = start_cluster()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield cluster
    stop_cluster(cluster)
