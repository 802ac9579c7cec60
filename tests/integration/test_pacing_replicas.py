"""Replicas sharing one user's session split each rate-limit budget (``Pacer.share_with``): a
replica fills only its part, the other replicas' use the server reports is not booked against it
(it is theirs), use beyond their parts still is; and three clients of one session, each a third,
send a burst against the emulator's limits without a single 429, where full budgets each get some."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from platform_fake import CountingTransport, emu_credentials, rate_headers

from rcinbox.clock import FakeClock
from rcinbox.emulator.runner import Running
from rcinbox.platform import Pacer, PlatformClient, RetryPolicy
from rcinbox.store import Store


async def test_a_replica_fills_only_its_part_of_the_budget() -> None:
    pacer = Pacer(FakeClock())
    pacer.share_with(2)
    pacer.release("Medium", await pacer.acquire("Medium"), rate_headers(40, 39, 60))
    for _ in range(19):
        assert pacer.wait_time("Medium") == 0
        pacer.release("Medium", await pacer.acquire("Medium"))
    assert pacer.used("Medium") == 20
    assert pacer.wait_time("Medium") == pytest.approx(60.0)  # its 20 of 40 are used
    assert "this replica's part (20) used" in pacer.why("Medium")
    pacer.share_with(1)  # the other replica left: the whole budget again
    assert pacer.wait_time("Medium") == 0


async def test_the_other_replicas_use_is_theirs_and_use_beyond_it_is_booked() -> None:
    pacer = Pacer(FakeClock())
    pacer.share_with(2)
    ticket = await pacer.acquire("Medium")
    pacer.release("Medium", ticket, rate_headers(40, 19, 60))  # 21 used: ours and 20 of the other replica's
    assert (pacer.used("Medium"), pacer.by_others("Medium")) == (1, 0)
    ticket = await pacer.acquire("Medium")
    pacer.release("Medium", ticket, rate_headers(40, 14, 60))  # 26 used: 2 ours, 20 theirs, 4 someone else's
    assert (pacer.used("Medium"), pacer.by_others("Medium")) == (6, 4)


BURST = 24  # three replicas' replies against a Medium budget of 6 a second


@pytest.fixture
async def medium_limited(emu: Running) -> AsyncIterator[None]:
    async with httpx.AsyncClient(base_url=emu.url) as http:
        response = await http.post(
            "/_emulator/faults", json={"rateLimits": {"Medium": 6, "window": 1, "penalty": 3}}
        )
    assert response.status_code == 200, response.text
    yield


async def burst_from_three(emu: Running, store: Store, replicas: int) -> CountingTransport:
    """Three clients of one session (the database's), each pacing as one of ``replicas``."""
    counting = CountingTransport()
    policy = RetryPolicy(attempts=1)  # a 429 surfaces as an error instead of being retried
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for _ in range(3):
            client = await stack.enter_async_context(
                PlatformClient.open(
                    emu_credentials(emu), sessions=store, transport=counting, policy=policy, upkeep=False
                )
            )
            client.pacer.share_with(replicas)
            clients.append(client)
        sends = (clients[n % 3].send_sms("+16505550100", "+14155550100", f"reply {n}") for n in range(BURST))
        await asyncio.wait_for(asyncio.gather(*sends, return_exceptions=True), 30)
    return counting


async def test_three_replicas_sharing_the_budget_get_no_429(
    emu: Running, medium_limited: None, pg_database: str
) -> None:
    async with await Store.open(pg_database) as store:
        split = await burst_from_three(emu, store, replicas=3)
        assert split.count("/sms", 429) == 0
        assert split.count("/sms", 200) == BURST
        control = await burst_from_three(emu, store, replicas=1)  # each thinks it is alone
    assert control.count("/sms", 429) > 0
