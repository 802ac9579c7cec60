"""Replicas' OAuth session in the shared PostgreSQL database, against the emulator: one session
for all of them (a second replica starts on the first's pair, no login), and when several renew
at once exactly one refresh reaches the platform, the others take the pair it saved, so the
rotated refresh token is never lost; on SQLite the single process keeps its 0600 file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from platform_fake import CountingTransport, emu_credentials

from rcinbox.emulator.runner import Running
from rcinbox.platform import PlatformClient, RetryPolicy, TokenManager
from rcinbox.platform.vault import KEY_PREFIX, SharedVault
from rcinbox.store import Store

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


def live_sessions(emu: Running) -> int:
    return sum(1 for s in emu.world.sessions.values() if not s.revoked)


@pytest.fixture
async def counting() -> AsyncIterator[CountingTransport]:
    transport = CountingTransport()
    yield transport
    await transport.aclose()


@pytest.fixture
async def wire(counting: CountingTransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=counting) as client:
        yield client


@pytest.fixture
async def stores(pg_database: str) -> AsyncIterator[list[Store]]:
    """Three replicas' stores on one database."""
    opened = [await Store.open(pg_database) for _ in range(3)]
    yield opened
    for store in opened:
        await store.close()


def replica(wire: httpx.AsyncClient, emu: Running, store: Store) -> TokenManager:
    creds = emu_credentials(emu)
    return TokenManager(wire, creds, vault=SharedVault(store, creds.fingerprint), policy=FAST)


async def test_replicas_share_one_session_and_one_refresh(
    emu: Running, wire: httpx.AsyncClient, counting: CountingTransport, stores: list[Store]
) -> None:
    first = replica(wire, emu, stores[0])
    await first.start(background=False)
    others = [replica(wire, emu, store) for store in stores[1:]]
    for other in others:
        await other.start(background=False)  # the first's pair, from the database
    assert counting.count("/oauth/token", 200) == 1
    assert {m.token.access_token for m in [first, *others] if m.token} == {first.token.access_token}  # type: ignore[union-attr]

    # all three renew at once (their upkeep fell due together): one refresh, one new pair for all
    await asyncio.wait_for(asyncio.gather(*(m.refresh_now() for m in [first, *others])), 10)
    assert counting.count("/oauth/token", 200) == 2  # the login and exactly one refresh
    assert sum(m.refreshes for m in [first, *others]) == 1
    tokens = {m.token.access_token for m in [first, *others] if m.token}
    assert len(tokens) == 1 and live_sessions(emu) == 1
    probe = await wire.get(
        emu.url + "/restapi/v1.0/account/~/extension/~", headers={"Authorization": f"Bearer {tokens.pop()}"}
    )
    assert probe.status_code == 200

    # the refresh token in the database is the rotated one: the next refresh works without a login
    await first.refresh_now()
    await others[0].refresh_now()  # finds the first's newer pair
    assert counting.count("/oauth/token", 200) == 3
    assert sum(m.logins for m in [first, *others]) == 1  # never a second session


async def test_a_replica_whose_access_token_was_rejected_takes_the_newer_pair(
    emu: Running, wire: httpx.AsyncClient, counting: CountingTransport, stores: list[Store]
) -> None:
    one, two = replica(wire, emu, stores[0]), replica(wire, emu, stores[1])
    await one.start(background=False)
    await two.start(background=False)
    old = two.token
    assert old is not None
    await one.refresh_now()
    assert await two.recover(old.access_token) == one.token.access_token  # type: ignore[union-attr]
    assert (one.refreshes, two.refreshes) == (1, 0)


async def test_the_session_row_holds_no_more_than_the_file_did(emu: Running, stores: list[Store]) -> None:
    creds = emu_credentials(emu)
    async with PlatformClient.open(creds, sessions=stores[0], upkeep=False, policy=FAST) as client:
        assert client.auth.token is not None
    raw = await stores[1].kv_get(KEY_PREFIX + creds.fingerprint)
    assert raw is not None
    saved = json.loads(raw)
    assert saved["fingerprint"] == creds.fingerprint and saved["format"] == 1
    assert creds.jwt not in raw and creds.client_secret not in raw


async def test_on_sqlite_the_single_process_keeps_its_private_file(emu: Running, tmp_path: Path) -> None:
    creds = emu_credentials(emu)
    path = tmp_path / "tokens.json"
    async with PlatformClient.open(creds, token_file=path, upkeep=False, policy=FAST):
        pass
    assert path.stat().st_mode & 0o777 == 0o600
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path}/db/rcinbox.db") as store:
        assert not store.shared
