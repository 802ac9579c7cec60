"""A dashboard on its ASGI app for unit tests (no server): :class:`Site` with a fake clock, an
in-memory key/value store, a status snapshot of a given vacation, and sign-in helpers."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.testclient import TestClient

from rcinbox.clock import FakeClock
from rcinbox.dashboard.auth import Sessions, SignInLimiter
from rcinbox.dashboard.live import Publisher
from rcinbox.dashboard.pages import Dashboard
from rcinbox.dashboard.status import (
    ConnectionStatus,
    InboxStatus,
    StatusSnapshot,
    TokenStatus,
    VacationStatus,
)
from rcinbox.passwords import PasswordHash
from rcinbox.rules.config import Vacation
from rcinbox.store.status import DayCounts

NOW = datetime(2026, 12, 21, 15, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")
PASSWORD = "open sesame 42"
HASH = PasswordHash.of(PASSWORD)


class MemoryKv:
    """The store's key/values in memory (what the dashboard keeps: password, key, sign-outs)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def kv_get(self, key: str) -> str | None:
        return self.values.get(key)

    async def kv_put(self, key: str, value: str) -> None:
        self.values[key] = value

    async def kv_setdefault(self, key: str, value: str) -> str:
        return self.values.setdefault(key, value)

    @contextlib.asynccontextmanager
    async def kv_locked(self, key: str) -> AsyncIterator[LockedRow]:
        row = LockedRow(self.values.get(key) or None)
        yield row
        if row.value is not None:
            self.values[key] = row.value


@dataclass
class LockedRow:
    value: str | None

    async def put(self, value: str) -> None:
        self.value = value


def snapshot_for(vacation: Vacation, asked: list[str | None]) -> object:
    async def snapshot(ext: str | None) -> StatusSnapshot:
        asked.append(ext)
        return StatusSnapshot(
            now=NOW,
            ready=True,
            not_ready=(),
            vacation=VacationStatus.of(vacation, NOW),
            connection=ConnectionStatus("websocket", True, True, None, "", None, 0),
            token=TokenStatus(True, NOW, NOW),
            inbox=InboxStatus(TODAY, NOW, "+14155550100", 0),
        )

    return snapshot


TODAY = DayCounts(
    NOW.date(),
    NOW,
    NOW,
    received=3,
    replied=1,
    suppressed=MappingProxyType({"not-a-contact": 2}),
    opted_out=0,
    opted_in=0,
)

WINDOW = Vacation(
    enabled=True,
    start=datetime(2026, 12, 20, tzinfo=NY),
    end=datetime(2027, 1, 4, 8, tzinfo=NY),
    timezone=NY,
    message="away",
)


class Site:
    def __init__(self, vacation: Vacation = WINDOW, extensions: tuple[str, ...] = ("101",)) -> None:
        self.clock = FakeClock(NOW)
        self.kv = MemoryKv()
        self.asked: list[str | None] = []
        self.publisher = Publisher()
        self.dashboard = Dashboard(
            snapshot_for(vacation, self.asked),  # type: ignore[arg-type]
            extensions,
            Sessions(b"k" * 32, HASH, self.clock),
            HASH,
            self.publisher,
            self.kv,
            SignInLimiter(self.clock),
        )
        self.client = TestClient(Starlette(routes=self.dashboard.routes()), follow_redirects=False)

    def csrf(self, path: str = "/signin") -> str:
        page = self.client.get(path)
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def sign_in(self, password: str = PASSWORD, next_: str = "/") -> object:
        return self.client.post("/signin", data={"csrf": self.csrf(), "password": password, "next": next_})
