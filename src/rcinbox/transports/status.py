"""The live state of a transport, as readiness checks, the CLI and tests see it.

A transport owns one :class:`StatusBoard`; it publishes immutable :class:`TransportStatus`
snapshots, and anyone can ``await board.wait_until(predicate)`` instead of polling.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

TransportKind = Literal["websocket", "webhook"]
RecoveryState = Literal["Successful", "Failed"]


@dataclass(frozen=True)
class TransportStatus:
    """One snapshot. ``reason`` says, in a few words, why the transport is not ready ("" when it is)."""

    kind: TransportKind
    connected: bool = False
    subscription_id: str | None = None
    subscription_active: bool = False
    subscription_expires_at: datetime | None = None  # as the platform last said
    last_event_at: datetime | None = None
    reason: str = "starting"
    connects: int = 0  # successful connections (WebSocket) / subscriptions created (WebHook)
    subscriptions_created: int = 0
    renewals: int = 0
    recovery: RecoveryState | None = None  # outcome of the last WebSocket session recovery
    unstored: int = 0  # notifications answered without being stored (WebHook 503): catch-up fetches them

    @property
    def ready(self) -> bool:
        return self.connected and self.subscription_active


class StatusBoard:
    """Holds the current :class:`TransportStatus`; every change wakes the waiters."""

    def __init__(self, kind: TransportKind) -> None:
        self._status = TransportStatus(kind)
        self._changed = asyncio.Event()

    @property
    def status(self) -> TransportStatus:
        return self._status

    def update(self, **changes: Any) -> TransportStatus:
        self._status = dataclasses.replace(self._status, **changes)
        self._changed.set()
        self._changed = asyncio.Event()
        return self._status

    async def wait_until(
        self, predicate: Callable[[TransportStatus], bool], within: float | None = None
    ) -> TransportStatus:
        """Wait until ``predicate(status)`` holds; raises ``TimeoutError`` after ``within`` seconds."""
        async with asyncio.timeout(within):
            while not predicate(self._status):
                await self._changed.wait()
        return self._status
