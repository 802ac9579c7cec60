"""The pieces every background loop shares (issue 7, smaller duplicates): one event-driven wait,
one backoff formula, one round loop for the pipeline and the outbox."""

from __future__ import annotations

import asyncio
import logging

import pytest
from import_rules import graph_of

from rcinbox.backoff import Backoff
from rcinbox.clock import SYSTEM, FakeClock
from rcinbox.errors import StoreFull
from rcinbox.platform.retry import RetryPolicy
from rcinbox.transports.websocket import ReconnectPolicy
from rcinbox.waiting import ROUND_RETRY, drain_due, run_rounds, wait_any

FOUNDATION = {
    *("settings", "errors", "logs", "events", "payload", "timestamps", "wire", "numbers", "backoff"),
    *("waiting", "clock", "private", "datalock", "passwords", "observe", "sender_jwts", "settings_parsers"),
}


def test_the_loops_backoff_lives_in_the_foundation_not_in_platform() -> None:
    """waiting.py used to take its backoff from platform/retry.py: a layer below importing one above."""
    graph = graph_of("rcinbox")
    foundation = {f"rcinbox.{name}" for name in FOUNDATION}
    upward = [
        f"{module} imports {imported}"
        for module in sorted(foundation)
        for imported in sorted(graph.find_modules_directly_imported_by(module))
        if imported.startswith("rcinbox.") and imported not in foundation
    ]
    assert upward == []


async def test_wait_any_says_whether_an_event_was_set() -> None:
    stop, wake = asyncio.Event(), asyncio.Event()
    assert await wait_any(stop, wake, at_most=0.01) is False  # timed out
    wake.set()
    assert await wait_any(stop, wake, at_most=5) is True
    waiter = asyncio.create_task(wait_any(stop, at_most=5))
    stop.set()
    assert await asyncio.wait_for(waiter, 1) is True


def test_every_policy_waits_by_the_one_backoff_formula() -> None:
    shape = {"base_delay": 1.0, "multiplier": 3.0, "max_delay": 20.0, "jitter": 0.5}
    policies = [Backoff(**shape), RetryPolicy(attempts=3, **shape), ReconnectPolicy(**shape)]
    for fixed in (0.0, 0.5, 1.0):
        schedules = {tuple(p.delay(n, rand=lambda: fixed) for n in range(1, 6)) for p in policies}  # noqa: B023
        assert len(schedules) == 1
    assert [Backoff(**shape).delay(n, rand=lambda: 0.5) for n in range(1, 6)] == [1, 3, 9, 20, 20]
    with pytest.raises(ValueError, match="multiplier must be at least 1"):
        ReconnectPolicy(multiplier=0.5)


async def test_a_failed_round_is_logged_and_retried_and_a_good_one_resets_the_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop, wake = asyncio.Event(), asyncio.Event()
    log = logging.getLogger("rcinbox.test_waiting")
    outcomes: list[Exception | float | None] = [StoreFull("database or disk is full"), 0.0, None]
    rounds = 0

    async def one_round() -> float | None:
        nonlocal rounds
        rounds += 1
        outcome = outcomes.pop(0)
        if not outcomes:
            stop.set()  # the last round: the loop ends after it
        if isinstance(outcome, Exception):
            wake.set()  # new work came while it failed: the retry does not wait for the backoff
            raise outcome
        return outcome

    with caplog.at_level(logging.ERROR, logger=log.name):
        await asyncio.wait_for(run_rounds("demo", log, one_round, wake, stop, SYSTEM), 5)
    assert rounds == 3
    [line] = caplog.records
    assert line.getMessage().startswith("demo: database or disk is full; free some space, retrying in")
    assert line.exc_info is None  # a full disk is one line, not a traceback


async def test_the_next_round_comes_when_due_on_the_loops_clock_or_when_woken() -> None:
    clock = FakeClock()
    stop, wake, ran = asyncio.Event(), asyncio.Event(), asyncio.Event()
    rounds = 0

    async def one_round() -> float | None:
        nonlocal rounds
        rounds += 1
        ran.set()
        return 60.0  # more is due in a minute

    loop = asyncio.create_task(run_rounds("demo", logging.getLogger("x"), one_round, wake, stop, clock))
    await asyncio.wait_for(ran.wait(), 1)
    ran.clear()
    clock.advance(59)
    assert (rounds, clock.sleeping) == (1, 1)  # still asleep: not due yet
    clock.advance(1)
    await asyncio.wait_for(ran.wait(), 1)
    ran.clear()
    wake.set()  # new work: no need to wait for the due time
    await asyncio.wait_for(ran.wait(), 1)
    assert rounds == 3
    stop.set()
    await asyncio.wait_for(loop, 1)


async def test_drain_handles_each_due_item_once_and_stops_when_told() -> None:
    pending = [1, 2, 3, 4, 5]
    handled: list[int] = []

    async def due() -> list[int]:
        return pending[:2]

    async def handle(key: int) -> None:
        handled.append(key)
        if key != 2:  # 2 failed and stays due (for later): this drain does not try it again
            pending.remove(key)

    assert await drain_due(due, handle) == 5
    assert handled == [1, 2, 3, 4, 5]

    stop = asyncio.Event()
    pending[:] = [7, 8]

    async def handle_then_stop(key: int) -> None:
        handled.append(key)
        stop.set()

    assert await drain_due(due, handle_then_stop, stop) == 1
    assert handled[-1] == 7


def test_the_rounds_backoff_is_the_stores() -> None:
    assert [ROUND_RETRY.delay(n, rand=lambda: 0.5) for n in (1, 2, 3, 6, 7)] == [1, 2, 4, 30, 30]
