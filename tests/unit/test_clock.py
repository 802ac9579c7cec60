"""The one clock (:mod:`rcinbox.clock`): the fake moves only when told and wakes its sleepers; no
other service module reads the time or sleeps on its own."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import rcinbox
from rcinbox.clock import SYSTEM, FakeClock

SRC = Path(rcinbox.__file__).parent
START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def test_the_fake_clock_stands_still_until_advanced() -> None:
    clock = FakeClock(START)
    assert (clock.now(), clock.time(), clock.monotonic()) == (START, START.timestamp(), 0.0)
    clock.advance(timedelta(minutes=1))
    clock.advance(0.5)
    assert clock.now() == START + timedelta(seconds=60.5)
    assert (clock.time(), clock.monotonic()) == (START.timestamp() + 60.5, 60.5)
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1)


async def test_advance_wakes_the_sleepers_now_due_and_no_other() -> None:
    clock = FakeClock(START)
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    tasks = [asyncio.create_task(sleeper(name, s)) for name, s in (("late", 3600), ("soon", 10))]
    await asyncio.sleep(0)  # both asleep
    assert clock.sleeping == 2
    clock.advance(9.9)
    await asyncio.sleep(0)
    assert woke == []
    clock.advance(0.1)
    await asyncio.wait_for(tasks[1], 1)
    assert (woke, clock.sleeping) == (["soon"], 1)
    tasks[0].cancel()
    await asyncio.gather(tasks[0], return_exceptions=True)
    assert clock.sleeping == 0
    clock.advance(3600)  # a cancelled sleeper is skipped
    assert woke == ["soon"]


async def test_wait_returns_on_an_event_or_when_the_time_has_come() -> None:
    clock, event = FakeClock(START), asyncio.Event()
    waiting = asyncio.create_task(clock.wait(event, at_most=60))
    await asyncio.sleep(0)
    clock.advance(60)
    assert await asyncio.wait_for(waiting, 1) is False  # the time came, the event did not
    waiting = asyncio.create_task(clock.wait(event, at_most=60))
    await asyncio.sleep(0)
    event.set()
    assert await asyncio.wait_for(waiting, 1) is True
    assert clock.sleeping == 0  # the sleep it no longer needed is gone


async def test_the_system_clock_waits_in_real_time() -> None:
    event = asyncio.Event()
    assert await SYSTEM.wait(event, at_most=0.01) is False
    event.set()
    assert await SYSTEM.wait(event, at_most=None) is True
    assert abs(SYSTEM.now().timestamp() - SYSTEM.time()) < 1


READS = re.compile(
    r"\btime\.(time|monotonic|sleep)\(|datetime\.(now|utcnow)\(|asyncio\.sleep\(|\bimport time\b"
)


def test_no_service_module_reads_the_time_but_the_clock() -> None:
    """Every read of the time goes through :mod:`rcinbox.clock` (the emulator keeps its own)."""
    found = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        if "emulator" not in path.relative_to(SRC).parts and path.name != "clock.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if READS.search(line)
    ]
    assert found == []


async def test_until_asleep_returns_once_a_task_sleeps_and_times_out_otherwise() -> None:
    clock = FakeClock()
    with pytest.raises(TimeoutError):
        await clock.until_asleep(within=0.05)
    napping = asyncio.ensure_future(clock.sleep(5))
    await clock.until_asleep()
    assert clock.sleeping == 1 and clock.next_wake() == 5
    clock.advance(5)
    await napping
