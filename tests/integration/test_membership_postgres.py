"""Replicas on one PostgreSQL database count each other by heartbeat and split the rate limits:
alone a replica's pacer fills the whole budget, two fill half each, one that stops gives its part
back at once, and one that dies without a word drops out after ``within`` seconds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from rcinbox.platform import Pacer
from rcinbox.service.membership import Membership
from rcinbox.store import Store


@pytest.fixture
async def stores(pg_database: str) -> AsyncIterator[list[Store]]:
    opened = [await Store.open(pg_database) for _ in range(2)]
    yield opened
    for store in opened:
        await store.close()


async def until(member: Membership, portion: float) -> None:
    async def there() -> bool:
        return all(p.portion == portion for p in member.pacers)

    await member.changes.until(there, 5)


async def test_replicas_split_the_budget_and_take_it_back(stores: list[Store]) -> None:
    one = Membership(stores[0], [Pacer(), Pacer()], every=0.1, within=1.0)
    two = Membership(stores[1], [Pacer()], every=0.1, within=1.0)
    stop_one, stop_two = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(one.run(stop_one))
    await until(one, 1.0)
    assert one.live == 1
    second = asyncio.create_task(two.run(stop_two))
    await until(two, 0.5)
    await until(one, 0.5)  # both pacers of the first replica (its main and a sender session)
    stop_two.set()
    await asyncio.wait_for(second, 5)
    await until(one, 1.0)  # the second left: its row went with it
    # a replica that dies says nothing: its last heartbeat ages out
    await stores[1].replica_beat("dead-replica", "host pid 1", 1.0)
    await until(one, 0.5)
    await until(one, 1.0)
    stop_one.set()
    await asyncio.wait_for(first, 5)
    assert await stores[0].replica_beat("probe", "", 1.0) == 1  # only the probe is left


async def test_replicas_starting_together_agree_on_the_values_made_once(stores: list[Store]) -> None:
    """The WebHook's verification token, the dashboard's session key and generated password: of
    two replicas creating one at the same moment, both keep the one stored first."""
    for key in ("webhook.verification_token", "dashboard.session_key"):
        got = await asyncio.gather(*(stores[n % 2].kv_setdefault(key, f"replica {n}'s") for n in range(6)))
        assert len(set(got)) == 1 and got[0].endswith("'s")
        assert await stores[1].kv_get(key) == got[0]
    assert await stores[0].kv_setdefault("dashboard.session_key", "later") == got[0]
