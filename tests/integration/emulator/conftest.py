"""Fixtures shared by the emulator tests (the emulator itself: ``emu`` and ``http`` in tests/conftest.py)."""

from __future__ import annotations

import httpx
import pytest
from emu_clocks import FakeClock
from messaging_kit import ALEX, bearer, roomy_limits

from rcinbox.emulator.runner import Running


@pytest.fixture
def clock(world_clock: FakeClock) -> FakeClock:
    """The emulator's clock, under the test's control: advance it instead of sleeping."""
    return world_clock


@pytest.fixture
async def alex(http: httpx.AsyncClient, emu: Running) -> dict[str, str]:
    """Alex's bearer header (the super admin of the default data), with room in every rate limit."""
    roomy_limits(emu)
    return await bearer(http, emu, ALEX)
