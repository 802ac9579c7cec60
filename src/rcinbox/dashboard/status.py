"""The status page's one typed snapshot: what the service knows about itself, right now.

The service builds a :class:`StatusSnapshot` on each request (``service/dashboard_status.py``);
the dashboard only shows it. Nothing here holds a secret: no token, JWT or verification token,
only whether they are valid and when they renew.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Literal

from rcinbox.rules.config import Vacation
from rcinbox.store.status import DayCounts

VacationState = Literal["on", "scheduled", "ended", "off"]


@dataclass(frozen=True)
class VacationStatus:
    state: VacationState  # "on": replying now
    start: datetime | None
    end: datetime | None
    timezone: tzinfo
    message: str

    @classmethod
    def of(cls, vacation: Vacation, now: datetime) -> VacationStatus:
        """``on`` inside an enabled window, ``scheduled`` before it, ``ended`` after it, else ``off``."""
        state: VacationState = "off"
        if vacation.active(now):
            state = "on"
        elif vacation.enabled and vacation.start is not None and vacation.end is not None:
            state = "scheduled" if now < vacation.start else "ended"
        return cls(state, vacation.start, vacation.end, vacation.timezone, vacation.message)


@dataclass(frozen=True)
class ConnectionStatus:
    transport: str  # "websocket" or "webhook"
    connected: bool
    subscription_active: bool
    subscription_expires_at: datetime | None
    reason: str  # why not ready ("" when ready)
    last_event_at: datetime | None
    renewals: int


@dataclass(frozen=True)
class TokenStatus:
    valid: bool
    expires_at: datetime | None
    renews_at: datetime | None  # the next scheduled refresh


@dataclass(frozen=True)
class CatchUpStatus:
    extension_id: str
    sync_type: str
    found: int  # inbound texts the last sync returned
    new: int  # of them new to the archive


@dataclass(frozen=True)
class WaitStatus:
    group: str
    request: str
    seconds: float | None
    reason: str


@dataclass(frozen=True)
class InboxStatus:
    today: DayCounts  # since midnight in the owner's time zone (Store.day_counts)
    last_inbound_at: datetime | None
    last_sender: str | None
    to_handle: int  # received but not yet decided and answered


@dataclass(frozen=True)
class StatusSnapshot:
    now: datetime
    ready: bool
    not_ready: tuple[str, ...]
    vacation: VacationStatus
    connection: ConnectionStatus
    token: TokenStatus
    inbox: InboxStatus
    catchup: tuple[CatchUpStatus, ...] = ()
    waits: tuple[WaitStatus, ...] = ()
    extensions: tuple[str, ...] = field(default=())
