from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from rcinbox.emulator.runner import Running, serve
from rcinbox.emulator.world import Limits


@pytest.fixture
def limits() -> Limits:
    """Override in a test module to change the emulator's platform numbers."""
    return Limits()


@pytest.fixture
async def emu(limits: Limits) -> AsyncIterator[Running]:
    """A real emulator on a free loopback port (HTTP + WebSocket), default account data."""
    async with serve(limits=limits) as running:
        yield running


@pytest.fixture
async def http(emu: Running) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=emu.url, timeout=10) as client:
        yield client
