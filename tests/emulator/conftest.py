"""Fixtures shared by the emulator tests (the emulator itself: ``emu`` and ``http`` in tests/conftest.py)."""

from __future__ import annotations

import pytest
from fake_clock import FakeClock

from rcinbox.emulator.runner import Running


@pytest.fixture
def clock(emu: Running) -> FakeClock:
    """The emulator's clock, under the test's control: advance it instead of sleeping."""
    clock = FakeClock()
    emu.world.clock = clock
    return clock
