"""The pacer against a platform that counts like RingCentral, on the test clock: a burst of 200
under the default limits takes the minimum the limits allow with zero 429s; requests go in the
order they asked; background work yields to replies; an answer without rate-limit headers is
said once per group."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Coroutine
from typing import Any

import httpx
import pytest

from rcinbox.clock import FakeClock
from rcinbox.platform import Pacer, RetryPolicy
from rcinbox.platform.pacing import BACKGROUND_SHARE, Group
from rcinbox.platform.retry import send

LATENCY = 0.05  # seconds from a request's arrival to its answer


class Platform:
    """Counts each request when it arrives, per group, over a sliding window (as RingCentral and
    the emulator do) and answers with the ``X-Rate-Limit-*`` headers after ``LATENCY``."""

    def __init__(self, clock: FakeClock, pacer: Pacer, limit: int = 40, window: float = 60.0) -> None:
        self.clock, self.pacer, self.limit, self.window = clock, pacer, limit, window
        self.hits: deque[float] = deque()
        self.arrivals: list[tuple[float, str]] = []
        self.over = 0  # requests a real platform would have answered 429

    async def request(self, name: str, share: float = 1.0) -> None:
        ticket = await self.pacer.acquire("Medium", name, share)
        now = self.clock.monotonic()
        while self.hits and self.hits[0] <= now - self.window:
            self.hits.popleft()
        self.over += len(self.hits) >= self.limit
        self.hits.append(now)
        self.arrivals.append((now, name))
        headers = {
            "x-rate-limit-group": "medium",
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(max(self.limit - len(self.hits), 0)),
            "x-rate-limit-window": f"{self.window:g}",
        }
        await self.clock.sleep(LATENCY)
        self.pacer.release("Medium", ticket, headers, status=200)


async def run(clock: FakeClock, *work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` to the end, moving the test clock from one scheduled wake-up to the next
    whenever every task is asleep."""
    tasks = [asyncio.create_task(w) for w in work]
    while not all(task.done() for task in tasks):
        for _ in range(300):  # let every task run until it sleeps on the clock or waits its turn
            await asyncio.sleep(0)
        wake = clock.next_wake()
        if all(task.done() for task in tasks):
            break
        assert wake is not None, "stuck: no task is due to wake"
        clock.advance(wake)
    await asyncio.gather(*tasks)


async def warmed(clock: FakeClock, limit: int = 40, window: float = 60.0) -> Platform:
    """The platform, and its client's pacer that learned the limits from one answer a window ago."""
    platform = Platform(clock, Pacer(clock), limit, window)
    await run(clock, platform.request("probe"))
    clock.advance(window + 1)
    platform.arrivals.clear()
    return platform


@pytest.mark.parametrize("in_flight", [1, 16])
async def test_a_burst_of_200_takes_the_minimum_the_default_limits_allow(in_flight: int) -> None:
    clock = FakeClock()
    platform = await warmed(clock)
    pacer = platform.pacer
    slots = asyncio.Semaphore(in_flight)

    async def one(n: int) -> None:
        async with slots:
            await platform.request(f"POST /sms {n}")

    start = clock.monotonic()
    await run(clock, *(one(n) for n in range(200)))
    times = [at - start for at, _ in platform.arrivals]
    assert len(times) == 200 and platform.over == 0
    assert times[39] < 40 * LATENCY  # the whole budget at once...
    # ...then 40 more each time the first of the previous 40 leaves the window: (200/40 - 1) x 60 s
    # is the least the limits allow; each window starts one answer's latency after the last.
    assert 240 <= times[-1] <= 240 + 4 * LATENCY + 40 / in_flight * LATENCY
    assert pacer.used("Medium") == 40 and pacer.by_others("Medium") == 0


async def test_requests_go_in_the_order_they_asked() -> None:
    clock = FakeClock()
    platform = await warmed(clock, limit=3, window=10)
    await run(clock, *(platform.request(str(n)) for n in range(9)))
    assert [name for _, name in platform.arrivals] == [str(n) for n in range(9)]
    assert platform.over == 0


async def test_background_work_uses_its_share_and_lets_replies_go_first() -> None:
    clock = FakeClock()
    platform = await warmed(clock, limit=10, window=10)
    downloads = [platform.request(f"download {n}", BACKGROUND_SHARE) for n in range(8)]
    replies = [platform.request(f"reply {n}") for n in range(8)]
    await run(clock, *downloads, *replies)
    first_window = [name for at, name in platform.arrivals if at < platform.arrivals[0][0] + 10]
    assert [n for n in first_window if n.startswith("download")] == [f"download {n}" for n in range(5)]
    assert [n for n in first_window if n.startswith("reply")] == [f"reply {n}" for n in range(5)]
    assert len(platform.arrivals) == 16 and platform.over == 0


async def test_a_waiting_reply_goes_before_background_work_that_asked_earlier() -> None:
    clock = FakeClock()
    platform = await warmed(clock, limit=4, window=10)
    await run(clock, *(platform.request(f"reply {n}") for n in range(4)))  # the budget is used
    later = [platform.request("download", BACKGROUND_SHARE), platform.request("reply 4")]
    await run(clock, *later)
    assert [name for _, name in platform.arrivals][-2:] == ["reply 4", "download"]


def no_headers(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503 if request.url.path.endswith("/fault") else 200, json={})


async def test_answers_without_rate_limit_headers_are_said_once_per_group(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="rcinbox.platform")
    pacer = Pacer(FakeClock())
    policy = RetryPolicy(attempts=1)
    async with httpx.AsyncClient(transport=httpx.MockTransport(no_headers)) as http:

        async def call(path: str, group: Group) -> None:
            async def build() -> httpx.Request:
                return http.build_request("POST", f"https://platform.ringcentral.com{path}")

            await send(http, build, group=group, pacer=pacer, policy=policy, idempotent=False)

        await call("/fault", "Medium")  # an error answer without headers (an injected fault) says nothing
        for _ in range(3):
            await call("/sms", "Medium")
        await call("/oauth/token", "Auth")
    said = [(r.getMessage(), getattr(r, "action", None)) for r in caplog.records]
    assert said == [
        ("Medium: no rate-limit headers from the platform; assuming 40 requests per 60 s", "pacing.assumed"),
        ("Auth: no rate-limit headers from the platform; assuming 5 requests per 60 s", "pacing.assumed"),
    ]
    assert pacer.wait_time("Medium") == 0  # the defaults in force: 3 of 40 used


async def test_answers_with_the_headers_say_nothing_about_assumptions(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="rcinbox.platform")
    clock = FakeClock()
    platform = await warmed(clock)
    await run(clock, *(platform.request(str(n)) for n in range(3)))
    assert [r for r in caplog.records if getattr(r, "action", None) == "pacing.assumed"] == []
