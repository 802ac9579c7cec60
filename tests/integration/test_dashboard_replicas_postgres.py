"""Two replicas' dashboards on one PostgreSQL database: a session cookie from one is good at the
other (one session key, created once), and a session signed out on one is refused by the other
once it takes up the sign-outs (every 2 s in the service); sign-outs made at once on both
replicas are all kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from rcinbox.dashboard import Publisher, dashboard_for, load_credentials
from rcinbox.dashboard.auth import COOKIE
from rcinbox.dashboard.credentials import sign_out, signed_out_now
from rcinbox.dashboard.pages import Dashboard
from rcinbox.passwords import PasswordHash
from rcinbox.store import Store

PASSWORD = PasswordHash.of("the admin password")


async def no_snapshot(ext: str | None) -> object:
    raise AssertionError("not read here")


@pytest.fixture
async def replicas(pg_database: str) -> AsyncIterator[list[Dashboard]]:
    stores = [await Store.open(pg_database) for _ in range(2)]
    boards = []
    for store in stores:
        credentials = await load_credentials(store, PASSWORD, lambda shown: None)
        boards.append(dashboard_for(credentials, store, ["101"], no_snapshot, Publisher()))  # type: ignore[arg-type]
    yield boards
    for store in stores:
        await store.close()


def client(board: Dashboard, cookie: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=Starlette(routes=board.routes()))
    return httpx.AsyncClient(transport=transport, base_url="http://replica", cookies={COOKIE: cookie})


async def test_a_session_signed_out_on_one_replica_is_refused_by_the_other(replicas: list[Dashboard]) -> None:
    one, two = replicas
    session = one.sessions.new(signed_in=True)
    cookie = one.sessions.encode(session)
    assert two.sessions.read(cookie) is not None  # the same key on both
    async with client(one, cookie) as http:
        out = await http.post("/signout", data={"csrf": one.sessions.csrf(session)})
        assert out.status_code == 303
    assert one.sessions.read(cookie) is None
    assert two.sessions.read(cookie) is not None  # not yet taken up
    await two.take_up_sign_outs()
    assert two.sessions.read(cookie) is None
    async with client(two, cookie) as http:
        assert (await http.get("/status")).status_code == 303  # back to the sign-in page


async def test_sign_outs_at_once_on_both_replicas_are_all_kept(replicas: list[Dashboard]) -> None:
    sessions = [replicas[n % 2].sessions.new(signed_in=True) for n in range(10)]
    now = replicas[0].sessions.clock.time()
    await asyncio.gather(
        *(sign_out(replicas[n % 2].kv, s.sid, s.expires, now) for n, s in enumerate(sessions))
    )
    assert set(await signed_out_now(replicas[1].kv)) == {s.sid for s in sessions}
