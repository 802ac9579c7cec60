"""Fixtures of the end-to-end suite: every test runs once per transport (WebSocket and WebHook)
against a fresh emulator, with its own data directory, SQLite archive, rules file and clock.

The harness's clock is the emulator's too (``emu_clock`` below): one date for the service and the
platform, moved by the test."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest
from e2e_kit import TRANSPORTS, Harness, TestClock, TransportName

from rcinbox.emulator.runner import Running
from rcinbox.emulator.world import Clock, Limits

YEAR = 365 * 24 * 3600


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> TransportName:
    name: TransportName = request.param
    return name


@pytest.fixture
def e2e_clock() -> TestClock:
    """The test's one date (fixed at ``INSIDE`` until the test moves it)."""
    return TestClock()


@pytest.fixture
def emu_clock(request: pytest.FixtureRequest, emu_clock: Clock) -> Clock:
    """The emulator's world runs on ``e2e_clock`` when the test has it (the ``e2e`` harness does);
    otherwise on the clock tests/conftest.py picks."""
    if "e2e_clock" in request.fixturenames:
        clock: TestClock = request.getfixturevalue("e2e_clock")
        return clock.time
    return emu_clock


@pytest.fixture
def limits(request: pytest.FixtureRequest, limits: Limits) -> Limits:
    """With ``e2e_clock``, the platform's token, session and subscription lifetimes are a year:
    a test moves the date by days in one step, while the running service renews those on real
    time (as it would have, had the days really passed); on the platform's own lifetimes they
    would expire in the jump. A test module's own ``limits`` fixture still wins."""
    if "e2e_clock" not in request.fixturenames:
        return limits
    return dataclasses.replace(
        limits, access_ttl=YEAR, refresh_ttl=YEAR, ws_subscription_ttl=YEAR, absolute_timeout=YEAR
    )


@pytest.fixture
def e2e_backend() -> str:
    """The archive's database: SQLite, unless a test module runs ``on_both_backends``."""
    return "sqlite"


@pytest.fixture
def e2e(
    request: pytest.FixtureRequest,
    emu: Running,
    http: httpx.AsyncClient,
    tmp_path: Path,
    transport: TransportName,
    e2e_clock: TestClock,
    e2e_backend: str,
) -> Harness:
    """The harness: ``async with e2e.running(rules_toml(...)) as live:`` runs the whole service."""
    harness = Harness(emu, http, tmp_path, transport, e2e_clock)
    if e2e_backend == "postgresql":  # a database of its own in the session's cluster (pg_kit)
        harness.database_url = request.getfixturevalue("pg_database")
    return harness
