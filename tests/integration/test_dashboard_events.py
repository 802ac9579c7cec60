"""``/events`` over a real HTTP server (uvicorn, as the service serves it): a signed-in page gets
each activity as a server-sent event; a page that goes away is noticed and forgotten; stopping the
publisher ends the open streams, so the server stops at once; a stranger gets 401."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from dashboard_site_kit import MemoryKv

from rcinbox.clock import SYSTEM
from rcinbox.dashboard.auth import COOKIE, Sessions, SignInLimiter
from rcinbox.dashboard.live import Activity, Publisher
from rcinbox.dashboard.pages import Dashboard
from rcinbox.passwords import PasswordHash
from rcinbox.service.web import Listening, build_app, serve

HASH = PasswordHash.of("a password")
AT = datetime(2026, 12, 21, 15, 0, tzinfo=UTC)


async def no_snapshot(ext: str | None) -> object:
    raise AssertionError("the events stream reads no status")


@pytest.fixture
def dashboard() -> Dashboard:
    sessions = Sessions(b"k" * 32, HASH, SYSTEM)
    return Dashboard(no_snapshot, ("101", "102"), sessions, HASH, Publisher(), MemoryKv(), SignInLimiter())  # type: ignore[arg-type]


@pytest.fixture
async def served(dashboard: Dashboard) -> AsyncIterator[Listening]:
    async with serve(build_app([], dashboard.routes()), "127.0.0.1", 0) as listening:
        yield listening
        dashboard.publisher.close()  # as the service does at stop, before the server stops


def signed_in(dashboard: Dashboard) -> dict[str, str]:
    return {COOKIE: dashboard.sessions.encode(dashboard.sessions.new(signed_in=True))}


async def test_a_signed_in_page_gets_its_extensions_activities(
    dashboard: Dashboard, served: Listening
) -> None:
    publisher = dashboard.publisher
    async with (
        httpx.AsyncClient(base_url=served.url, cookies=signed_in(dashboard), timeout=10) as http,
        http.stream("GET", "/events?ext=101") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        lines = response.aiter_lines()
        assert await anext(lines) == "retry: 3000"
        publisher.publish(Activity("received", "102", AT, "+14155550101", "not for this page"))
        publisher.publish(Activity("received", "101", AT, "+14155550100", "Hello <b>there</b>"))
        received = [line async for line in _until_data(lines)]
        assert received[-2] == "event: activity"
        data = json.loads(received[-1].removeprefix("data: "))
        assert (data["extension_id"], data["text"]) == ("101", "Hello <b>there</b>")


async def _until_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    async for line in lines:
        if line:
            yield line
        if line.startswith("data: "):
            return


async def test_a_page_that_goes_away_is_forgotten(dashboard: Dashboard, served: Listening) -> None:
    publisher = dashboard.publisher
    async with httpx.AsyncClient(base_url=served.url, cookies=signed_in(dashboard), timeout=10) as http:
        async with http.stream("GET", "/events") as response:
            assert await anext(response.aiter_lines()) == "retry: 3000"
            assert publisher.subscribers == 1

        async def gone() -> bool:
            return publisher.subscribers == 0

        await publisher.changes.until(gone, within=10)


async def test_stopping_the_publisher_ends_the_open_streams(dashboard: Dashboard, served: Listening) -> None:
    async with (
        httpx.AsyncClient(base_url=served.url, cookies=signed_in(dashboard), timeout=10) as http,
        http.stream("GET", "/events") as response,
    ):
        lines = response.aiter_lines()
        assert await anext(lines) == "retry: 3000"
        dashboard.publisher.close()
        assert [line async for line in lines] == [""]  # the stream ends (no keep-alive wait)


async def test_a_stranger_gets_no_stream(served: Listening) -> None:
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        assert (await http.get("/events")).status_code == 401
        assert (await http.get("/healthz")).status_code == 200  # still open without signing in
