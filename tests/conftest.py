from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from emu_clocks import FakeClock, ShiftedClock

from rcinbox.emulator.runner import Running, serve
from rcinbox.emulator.world import Clock, Limits

pytest_plugins = ["store_kit"]  # the `store` fixture (an archive in tmp_path), for every folder

EMU_CLOCKS = ("world_clock", "shifted_clock")  # the fixtures a test asks for to move the emulator's time


@pytest.fixture(autouse=True)
def rcinbox_logging_restored() -> Iterator[None]:
    """A command run in-process (``rcinbox run``/``emulator`` under CliRunner) points the
    ``rcinbox`` logger at that run's stream, closed afterwards: put the logger back as it was, so
    a later test in the same worker does not log into a closed file."""
    logger = logging.getLogger("rcinbox")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


@pytest.fixture
def limits() -> Limits:
    """Override in a test module to change the emulator's platform numbers."""
    return Limits()


@pytest.fixture
def world_clock() -> FakeClock:
    """The emulator's time stands still until the test advances it (``emu`` runs on this clock)."""
    return FakeClock()


@pytest.fixture
def shifted_clock() -> ShiftedClock:
    """The emulator's time is real time plus the ``offset`` the test sets (``emu`` runs on it)."""
    return ShiftedClock()


@pytest.fixture
def emu_clock(request: pytest.FixtureRequest) -> Clock:
    """The clock the ``emu`` fixture's world is built with: the clock fixture the test asks for,
    else real time. Nobody replaces a running emulator's clock."""
    for name in EMU_CLOCKS:
        if name in request.fixturenames:
            clock: Clock = request.getfixturevalue(name)
            return clock
    return time.time


@pytest.fixture
async def emu(limits: Limits, emu_clock: Clock) -> AsyncIterator[Running]:
    """A real emulator on a free loopback port (HTTP + WebSocket), default account data."""
    async with serve(limits=limits, clock=emu_clock) as running:
        yield running


@pytest.fixture
async def http(emu: Running) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=emu.url, timeout=10) as client:
        yield client
