"""The leader lease on a real PostgreSQL (the session's throwaway cluster): one holder at a time
across engines (as across replicas); the lock freed when its holder's session ends, whether it
gives it up or its connection is cut (what a SIGKILLed replica's server side sees), and the old
holder told so by :meth:`held`; the Store picks the lease by its database."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from rcinbox.service.leadership import LeaderPolicy, Leadership
from rcinbox.store import Store
from rcinbox.store.lease import AdvisoryLease, SoleLease
from rcinbox.waiting import Changes


@pytest.fixture
async def engines(pg_database: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine, AsyncEngine]]:
    """Three engines on one database: two replicas and an operator's psql."""
    made = tuple(create_async_engine(pg_database) for _ in range(3))
    yield made  # type: ignore[misc]
    for engine in made:
        await engine.dispose()


async def cut_off(admin: AsyncEngine, holder: AdvisoryLease) -> None:
    """End the holder's database session from outside, as the server does when its client dies."""
    async with admin.connect() as conn:
        ended = await conn.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory'"
                " AND granted AND ((classid::bigint << 32) | objid::bigint) = :key"
            ),
            {"key": holder.key},
        )
    assert ended == 1


async def test_one_replica_holds_the_lease_at_a_time(engines: tuple[AsyncEngine, ...]) -> None:
    a, b = AdvisoryLease(engines[0]), AdvisoryLease(engines[1])
    assert await a.acquire()
    assert await a.acquire()  # again: still ours, and not stacked (one release frees it)
    assert not await b.acquire()
    assert await a.held() and not await b.held()
    await a.release()
    assert not await a.held()
    assert await b.acquire() and await b.held()
    assert not await a.acquire()
    await b.release()


async def test_a_holder_whose_session_ends_loses_it_and_another_takes_it(
    engines: tuple[AsyncEngine, ...],
) -> None:
    a, b = AdvisoryLease(engines[0]), AdvisoryLease(engines[1])
    assert await a.acquire()
    await cut_off(engines[2], a)
    assert await b.acquire()  # freed with the session, at once
    assert not await a.held()  # the old holder learns it on its next check
    assert not await a.acquire()
    await b.release()


async def test_a_holder_whose_database_does_not_answer_in_time_steps_down(
    engines: tuple[AsyncEngine, ...],
) -> None:
    """Its server process frozen (SIGSTOP): the check gives up after ``within`` and says no."""
    lease = AdvisoryLease(engines[0], within=1.0)
    assert await lease.acquire()
    async with engines[2].connect() as conn:
        pid = await conn.scalar(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND ((classid::bigint << 32) | objid::bigint) = :key"
            ),
            {"key": lease.key},
        )
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        assert not await lease.held()
        assert 0.9 < time.monotonic() - started < 3
    finally:
        os.kill(pid, signal.SIGCONT)
    await lease.release()
    other = AdvisoryLease(engines[1])
    assert await other.acquire()  # its connection was cut: the lock is free
    await other.release()


class CountedLease(AdvisoryLease):
    """An advisory lease that tells each try (a test waits for tries, not for time)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.tries = 0
        self.tried = Changes()

    async def acquire(self) -> bool:
        got = await super().acquire()
        self.tries += 1
        self.tried.notify()
        return got


async def test_a_follower_leads_within_seconds_of_the_leaders_session_ending(
    engines: tuple[AsyncEngine, ...],
) -> None:
    """Two replicas' leadership loops (retry and beat 0.2 s): the first leads, the second keeps
    trying in vain; the first's session is cut: the second leads on its next try and the first
    stops its work on its next check."""
    policy = LeaderPolicy(retry=0.2, beat=0.2)
    first_lease, second_lease = CountedLease(engines[0]), CountedLease(engines[1])
    first = Leadership(first_lease, name="replica 1", policy=policy)
    second = Leadership(second_lease, name="replica 2", policy=policy)
    working = {"replica 1": 0, "replica 2": 0}

    def work_of(name: str) -> Callable[[asyncio.Event], Awaitable[None]]:
        async def work(ended: asyncio.Event) -> None:
            working[name] += 1
            try:
                await ended.wait()
            finally:
                working[name] -= 1

        return work

    async def leading(who: Leadership, state: bool) -> bool:
        return who.leading is state

    stop = asyncio.Event()
    one = asyncio.create_task(first.run(stop, work_of("replica 1")))
    await first.changes.until(lambda: leading(first, True), 5)
    two = asyncio.create_task(second.run(stop, work_of("replica 2")))

    async def tried_thrice() -> bool:
        return second_lease.tries >= 3

    await second_lease.tried.until(tried_thrice, 5)
    assert (first.leading, second.leading) == (True, False)
    # the leader dies: the server ends its session, its loop is gone (it never tries again)
    await cut_off(engines[2], first_lease)
    one.cancel()
    await asyncio.gather(one, return_exceptions=True)
    assert not first.leading and working["replica 1"] == 0
    await second.changes.until(lambda: leading(second, True), 5)  # well within the 15 s allowed
    assert working == {"replica 1": 0, "replica 2": 1}
    stop.set()
    await asyncio.wait_for(two, 5)
    assert working == {"replica 1": 0, "replica 2": 0}
    assert (first.terms, second.terms) == (1, 1)


async def test_after_a_blip_of_the_leaders_connection_it_steps_down_within_a_beat(
    engines: tuple[AsyncEngine, ...],
) -> None:
    """The leader's session cut but its process alive: until its next check it may still think
    it leads while the other already does (at most one beat: what the outbox's row claims and the
    archive's unique keys make harmless); it steps down on that check, and then exactly one leads."""
    policy = LeaderPolicy(retry=0.2, beat=0.2)
    first, second = (
        Leadership(AdvisoryLease(e), name=f"replica {n}", policy=policy) for n, e in enumerate(engines[:2], 1)
    )

    async def idle(ended: asyncio.Event) -> None:
        await ended.wait()

    async def leads(who: Leadership) -> bool:
        return who.leading

    async def steps_down() -> bool:
        return first.terms == 1 and not first.leading

    async def one_leads() -> bool:
        return first.leading + second.leading == 1 and first.terms + second.terms == 2

    stop = asyncio.Event()
    tasks = [asyncio.create_task(first.run(stop, idle))]
    await first.changes.until(lambda: leads(first), 5)
    tasks.append(asyncio.create_task(second.run(stop, idle)))
    assert isinstance(first.lease, AdvisoryLease)
    await cut_off(engines[2], first.lease)
    cut = time.monotonic()
    await first.changes.until(steps_down, 5)
    assert time.monotonic() - cut < 1.0  # one beat (0.2 s) and the question
    waits = [asyncio.ensure_future(r.changes.until(one_leads, 5)) for r in (first, second)]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for waiting in waits:
        waiting.cancel()
    await asyncio.gather(*waits, return_exceptions=True)
    assert await one_leads()
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)


async def test_the_store_leases_by_its_database(pg_database: str, tmp_path: Path) -> None:
    async with await Store.open(pg_database) as store:
        assert isinstance(store.lease(), AdvisoryLease)
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path}/db/rcinbox.db") as store:
        assert isinstance(store.lease(), SoleLease)
