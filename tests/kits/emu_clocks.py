"""Clocks for the emulator's world (``serve(clock=...)``), so tests move time instead of waiting.

The ``world_clock`` and ``shifted_clock`` fixtures (tests/conftest.py) hand the ``emu`` fixture one
of these; a test that asks for neither gets an emulator on real time.
"""

from __future__ import annotations

import time


class FakeClock:
    """Stands still at ``start`` (default: now) until the test moves it."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ShiftedClock:
    """Real time plus ``offset`` seconds the test sets (a text sent "two hours ago")."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset
