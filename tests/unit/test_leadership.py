"""Leadership on a scripted lease and a fake clock: the leader's work runs only while the lease
is ours, ends when the lease is lost or at stop (the lease given back then), and a follower
takes over on its next try."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from rcinbox.clock import FakeClock
from rcinbox.service.leadership import LeaderPolicy, Leadership
from rcinbox.store.lease import SoleLease, lock_key


class ScriptedLease:
    """A lease another replica holds while ``taken``; ``lost`` makes the next check fail."""

    answered = True  # the database answers (a refused take: another replica holds it)
    sole = False

    def __init__(self, *, taken: bool = False) -> None:
        self.taken = taken
        self.ours = False
        self.lost = False
        self.calls: list[str] = []

    async def acquire(self) -> bool:
        self.calls.append("acquire")
        self.ours = self.ours or not self.taken
        return self.ours

    async def held(self) -> bool:
        self.calls.append("held")
        if self.lost:
            self.ours, self.lost = False, False
        return self.ours

    async def release(self) -> None:
        self.calls.append("release")
        self.ours = False


class Work:
    """The leader's work: counts its terms, ends when told."""

    def __init__(self) -> None:
        self.running = False
        self.terms = 0
        self.crash: Exception | None = None

    async def __call__(self, ended: asyncio.Event) -> None:
        self.running, self.terms = True, self.terms + 1
        try:
            if self.crash is not None:
                raise self.crash
            await ended.wait()
        finally:
            self.running = False


async def settled(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until ``condition()`` holds (scheduling, not time)."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the tasks did not get there")


POLICY = LeaderPolicy(retry=2.0, beat=2.0)


async def test_the_only_process_leads_at_once_until_stop() -> None:
    clock, stop, work = FakeClock(), asyncio.Event(), Work()
    leadership = Leadership(SoleLease(), policy=POLICY, clock=clock)
    runner = asyncio.create_task(leadership.run(stop, work))
    await settled(lambda: work.running and clock.sleeping == 1)
    assert leadership.leading
    clock.advance(3600)  # checks come and go; the sole lease is always ours
    await settled(lambda: clock.sleeping == 1)
    assert work.running and work.terms == 1
    stop.set()
    await asyncio.wait_for(runner, 1)
    assert not work.running and not leadership.leading


async def test_a_follower_takes_over_on_its_next_try_once_the_lease_is_free(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "rcinbox.leadership")
    clock, stop, work, lease = FakeClock(), asyncio.Event(), Work(), ScriptedLease(taken=True)
    leadership = Leadership(lease, name="replica b", policy=POLICY, clock=clock)
    runner = asyncio.create_task(leadership.run(stop, work))
    await settled(lambda: clock.sleeping == 1)
    clock.advance(2.0)
    await settled(lambda: lease.calls.count("acquire") == 2)
    assert not work.running and not leadership.leading  # another replica leads
    assert leadership.following  # and this one knows it: ready to take deliveries (/readyz)
    await settled(lambda: clock.sleeping == 1)
    lease.taken = False  # the leader died: its session ended, the lock is free
    clock.advance(2.0)
    await settled(lambda: work.running)
    assert leadership.leading and leadership.terms == 1 and not leadership.following
    assert "replica b leads" in caplog.text
    stop.set()
    await asyncio.wait_for(runner, 1)
    assert lease.calls[-1] == "release" and not lease.ours


async def test_a_lost_lease_ends_the_work_and_the_replica_tries_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, stop, work, lease = FakeClock(), asyncio.Event(), Work(), ScriptedLease()
    leadership = Leadership(lease, policy=POLICY, clock=clock)
    runner = asyncio.create_task(leadership.run(stop, work))
    await settled(lambda: work.running and clock.sleeping == 1)
    lease.lost, lease.taken = True, True  # our connection died; another replica took it
    clock.advance(2.0)
    await settled(lambda: not work.running and not leadership.leading)
    assert "lost the leader lease" in caplog.text
    assert "no longer leads" in caplog.text
    await settled(lambda: clock.sleeping == 1)  # waiting to try again
    lease.taken = False
    clock.advance(2.0)
    await settled(lambda: work.running)
    assert work.terms == 2 and leadership.terms == 2
    stop.set()
    await asyncio.wait_for(runner, 1)


async def test_the_work_crashing_gives_the_lease_back_and_stops_the_service() -> None:
    clock, stop, work, lease = FakeClock(), asyncio.Event(), Work(), ScriptedLease()
    work.crash = RuntimeError("the transport broke")
    leadership = Leadership(lease, policy=POLICY, clock=clock)
    with pytest.raises(ExceptionGroup) as raised:
        await asyncio.wait_for(leadership.run(stop, work), 1)
    assert raised.group_contains(RuntimeError, match="the transport broke")
    assert lease.calls[-1] == "release" and not leadership.leading


def test_the_lock_key_is_a_stable_signed_64_bit_number() -> None:
    key = lock_key()
    assert -(2**63) <= key < 2**63
    assert key == lock_key("rcinbox.leader") != lock_key("something else")


async def test_a_replica_whose_database_does_not_answer_is_neither_leader_nor_follower() -> None:
    clock, stop, work, lease = FakeClock(), asyncio.Event(), Work(), ScriptedLease(taken=True)
    lease.answered = False
    leadership = Leadership(lease, policy=POLICY, clock=clock)
    runner = asyncio.create_task(leadership.run(stop, work))
    await settled(lambda: clock.sleeping == 1)
    assert not leadership.leading and not leadership.following
    stop.set()
    await asyncio.wait_for(runner, 1)


def test_readiness_of_a_follower_is_the_leaders_and_its_own_token() -> None:
    """/readyz: a follower takes deliveries and sends while another replica holds the
    subscription; the leader is ready only with its subscription active."""
    from types import SimpleNamespace

    from rcinbox.service.app import readiness
    from rcinbox.transports.status import StatusBoard

    client = SimpleNamespace(auth=SimpleNamespace(valid=lambda: True))
    leadership = Leadership(ScriptedLease(taken=True), policy=POLICY)
    checks = readiness(client, StatusBoard("webhook"), leadership)  # type: ignore[arg-type]
    leadership.following = True
    assert [check() for check in checks] == [None, None]
    leadership.following = False
    assert [check() for check in checks] == [None, "no leader yet: waiting for the leader lease"]
    leadership.leading = True  # leads, but its subscription is not active (yet)
    assert checks[1]() is not None
