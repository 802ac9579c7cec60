"""The throwaway PostgreSQL cluster (bench/pg.py, the tests' pg_kit): without PostgreSQL's binaries
it says what to install (the session fixture turns that into a failure of every PostgreSQL test,
never a silent skip; the replicas benchmark stops with it)."""

from __future__ import annotations

import pg_kit
import pytest

from bench import pg


def test_missing_binaries_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "pg_bindir", lambda: None)
    with pytest.raises(RuntimeError) as missing:
        pg_kit.start_cluster()
    assert str(missing.value) == (
        "PostgreSQL is not installed: the PostgreSQL tests and the replicas benchmark need its "
        "server binaries (`apt-get install -y postgresql`; `make test` installs it)."
    )


def test_the_installed_binaries_are_found() -> None:
    bindir = pg_kit.pg_bindir()
    assert bindir is not None and (bindir / "initdb").exists() and (bindir / "pg_ctl").exists()
