"""What the dashboard's status page shows, gathered from where the service knows it: the rules
(the vacation window, hot-reloaded), the transport's status board (connection, subscription and
its expiry, the last notification), the platform session (token validity, next renewal), the waits
for RingCentral's budget, the catch-up's last syncs and the archive (today's counts in the rules'
time zone: :meth:`rcinbox.store.Store.day_counts`).

:func:`status_source` returns the callable the dashboard asks on each page view; :func:`announce`
writes a generated admin password on the console once (standard output, not through logging).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from rcinbox.clock import Clock
from rcinbox.dashboard.status import (
    CatchUpStatus,
    ConnectionStatus,
    InboxStatus,
    StatusSnapshot,
    TokenStatus,
    VacationStatus,
    WaitStatus,
)
from rcinbox.platform.tokenfile import Token
from rcinbox.rules import Rules
from rcinbox.service.catchup import SyncReport
from rcinbox.store import Store
from rcinbox.store.glance import glance
from rcinbox.transports.status import TransportStatus


class Session(Protocol):
    @property
    def token(self) -> Token | None: ...

    def valid(self) -> bool: ...

    def next_upkeep_in(self) -> float: ...


@dataclass(frozen=True)
class Parts:
    """Where the status is read from (the running :class:`~rcinbox.service.app.Service`'s parts)."""

    rules: Callable[[], Rules]
    transport: Callable[[], TransportStatus]
    not_ready: Callable[[], list[str]]
    waits: Callable[[], list[dict[str, Any]]]
    reports: Callable[[], Sequence[SyncReport]]


def status_source(
    parts: Parts, session: Session, store: Store, extensions: Sequence[str], clock: Clock
) -> Callable[[str | None], Awaitable[StatusSnapshot]]:
    async def snapshot(extension_id: str | None) -> StatusSnapshot:
        now = clock.now()
        rules = parts.rules()
        rules = rules.for_extension(extension_id) if extension_id is not None else rules
        tz = rules.vacation.timezone
        today = await store.day_counts(tz, extension_id=extension_id, now=now)
        seen = await glance(store.engine, extension_id)
        status = parts.transport()
        not_ready = tuple(parts.not_ready())
        return StatusSnapshot(
            now=now,
            ready=not not_ready,
            not_ready=not_ready,
            vacation=VacationStatus.of(rules.vacation, now),
            connection=ConnectionStatus(
                transport=status.kind,
                connected=status.connected,
                subscription_active=status.subscription_active,
                subscription_expires_at=status.subscription_expires_at,
                reason=status.reason,
                last_event_at=status.last_event_at,
                renewals=status.renewals,
            ),
            token=_token(session, clock),
            inbox=InboxStatus(today, seen.last_at, seen.last_sender, seen.to_handle),
            catchup=_catchups(parts.reports(), extension_id),
            waits=tuple(
                WaitStatus(str(w["group"]), str(w["request"]), w["seconds"], str(w["reason"]))
                for w in parts.waits()
            ),
            extensions=tuple(extensions),
        )

    return snapshot


def _token(session: Session, clock: Clock) -> TokenStatus:
    token = session.token
    if token is None:
        return TokenStatus(False, None, None)
    expires = datetime.fromtimestamp(token.expires_at, UTC)
    renews = datetime.fromtimestamp(clock.time() + session.next_upkeep_in(), UTC)
    return TokenStatus(session.valid(), expires, renews)


def _catchups(reports: Sequence[SyncReport], extension_id: str | None) -> tuple[CatchUpStatus, ...]:
    latest: dict[str, SyncReport] = {}
    for report in reports:  # oldest first: the last one of each extension wins
        if extension_id is None or report.extension_id == extension_id:
            latest[report.extension_id] = report
    return tuple(CatchUpStatus(r.extension_id, r.sync_type, r.inbound, r.accepted) for r in latest.values())


def announce(password: str) -> None:
    """The generated admin password, once, on the console: standard output, apart from the log
    (standard error), so a log kept in a file never holds it."""
    sys.stdout.write(
        "\n  rcinbox dashboard: no RCINBOX_ADMIN_PASSWORD is set, so one was generated.\n"
        f"  Sign in with: {password}\n"
        "  It is shown only this once (only its hash is kept);\n"
        "  set RCINBOX_ADMIN_PASSWORD to choose your own.\n\n"
    )
    sys.stdout.flush()
