"""The outbox queue: durable automated replies, claimed before they are sent.

Row life: ``queued`` (due at ``next_attempt_at``) → :meth:`OutboxQueue.claim` marks it
``sending`` in its own committed transaction *before* the platform is called (in flight:
``next_attempt_at`` NULL, ``lease_until`` = when the claim expires) → ``sent`` (with the platform
message id), ``failed`` (with the reason) or, given up on a send whose outcome stayed unknown,
``unknown`` (counted by the ledger, never sent again). A send whose outcome is unknown (network error, 5xx,
crash) leaves the row ``sending``; it becomes due again through :meth:`retry_later`, through the
lease running out (a sender that died or lost its database), or at once at start-up
(:meth:`recover_in_flight`, single-instance deployments), and the sender reconciles it against
the platform's message store before sending again. Claims are conditional updates, so several
senders (replicas) never hold the same row. The outbox is also the replies ledger: non-failed
rows (``unknown`` included) are automated texts. A row is a ``reply`` to the sender or an
``escalation`` about them (``about``) to the owner's escalation number; the message is ``done`` when
its last active row finishes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rcinbox.clock import Clock
from rcinbox.store.engine import reading, transaction
from rcinbox.store.records import OutboxKind, OutboxRow, OutboxState
from rcinbox.store.schema import messages, outbox

LEDGER_STATES: tuple[OutboxState, ...] = ("queued", "sending", "sent", "unknown")
_ACTIVE: tuple[OutboxState, ...] = ("queued", "sending")
DEFAULT_LEASE = timedelta(minutes=10)  # far longer than one send with the client's own retries


def ledger_time() -> ColumnElement[Any]:
    """When an automated text counts as sent: ``sent_at``, or ``queued_at`` while pending."""
    return func.coalesce(outbox.c.sent_at, outbox.c.queued_at)


def _due_at() -> ColumnElement[Any]:
    """When an active row is next due: its retry time, or the end of its lease while in flight."""
    return func.coalesce(outbox.c.next_attempt_at, outbox.c.lease_until)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(outbox.c.state.in_(_ACTIVE), _due_at() <= now)


@dataclass(frozen=True)
class Claim:
    row: OutboxRow
    reconcile: bool  # the row was already ``sending``: a previous attempt may have reached the platform


class OutboxQueue:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    async def recover_in_flight(self) -> int:
        """At start-up of the only sender: rows left in flight by a crash are due now (to be
        reconciled) instead of when their lease runs out."""
        now = self.clock.now()
        async with transaction(self.engine) as conn:
            result = await conn.execute(
                update(outbox)
                .where(outbox.c.state == "sending", outbox.c.next_attempt_at.is_(None))
                .values(lease_until=now, updated_at=now)
            )
        return int(result.rowcount)

    async def due(self, limit: int = 50) -> list[OutboxRow]:
        query = select(outbox).where(_due(self.clock.now())).order_by(_due_at(), outbox.c.id).limit(limit)
        async with reading(self.engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_row(row) for row in rows]

    async def next_due(self) -> datetime | None:
        query = select(func.min(_due_at())).where(outbox.c.state.in_(_ACTIVE))
        async with reading(self.engine) as conn:
            return cast(datetime | None, await conn.scalar(query))

    async def get(self, row_id: int) -> OutboxRow | None:
        async with reading(self.engine) as conn:
            row = (await conn.execute(select(outbox).where(outbox.c.id == row_id))).mappings().one_or_none()
        return None if row is None else _row(row)

    async def for_message(self, message_pk: int, kind: OutboxKind = "reply") -> OutboxRow | None:
        query = select(outbox).where(outbox.c.message_pk == message_pk, outbox.c.kind == kind)
        async with reading(self.engine) as conn:
            row = (await conn.execute(query)).mappings().one_or_none()
        return None if row is None else _row(row)

    async def claim(self, row_id: int, lease: timedelta = DEFAULT_LEASE) -> Claim | None:
        """Mark a due row ``sending`` for ``lease`` (committed); ``None`` if it is not due or
        another sender holds it."""
        now = self.clock.now()
        async with transaction(self.engine) as conn:
            before = await _get(conn, row_id)
            if before is None or before.state not in _ACTIVE:
                return None
            result = await conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id, _due(now))
                .values(
                    state="sending",
                    attempts=outbox.c.attempts + 1,
                    claimed_at=func.coalesce(outbox.c.claimed_at, now),
                    next_attempt_at=None,
                    lease_until=now + lease,
                    updated_at=now,
                )
            )
            if result.rowcount != 1:
                return None
            after = await _get(conn, row_id)
        assert after is not None
        return Claim(row=after, reconcile=before.state == "sending")

    async def mark_sent(self, row_id: int, platform_message_id: str) -> None:
        await self._finish(row_id, "sent", platform_message_id=platform_message_id, sent_at=self.clock.now())

    async def mark_failed(self, row_id: int, reason: str) -> None:
        await self._finish(row_id, "failed", last_error=reason[:2000])

    async def mark_unknown(self, row_id: int, reason: str) -> None:
        """Given up, but the last attempt may have gone out: kept in the ledger, never resent."""
        await self._finish(row_id, "unknown", last_error=reason[:2000])

    async def retry_later(self, row_id: int, error: str, at: datetime) -> None:
        """Keep the row ``sending`` (outcome unknown or refused for now) and try again at ``at``."""
        async with transaction(self.engine) as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id)
                .values(
                    next_attempt_at=at, lease_until=None, last_error=error[:2000], updated_at=self.clock.now()
                )
            )

    async def known_platform_ids(self, ids: Collection[str]) -> set[str]:
        """Which of these platform message ids are already recorded for some outbox row."""
        if not ids:
            return set()
        query = select(outbox.c.platform_message_id).where(outbox.c.platform_message_id.in_(list(ids)))
        async with reading(self.engine) as conn:
            return {str(value) for value in (await conn.scalars(query)).all()}

    async def _finish(self, row_id: int, state: OutboxState, **values: Any) -> None:
        now = self.clock.now()
        async with transaction(self.engine) as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id)
                .values(state=state, next_attempt_at=None, lease_until=None, updated_at=now, **values)
            )
            message_pk = select(outbox.c.message_pk).where(outbox.c.id == row_id).scalar_subquery()
            others = select(outbox.c.id).where(outbox.c.message_pk == message_pk, outbox.c.state.in_(_ACTIVE))
            await conn.execute(
                update(messages)
                .where(messages.c.id == message_pk, messages.c.state == "decided", ~others.exists())
                .values(state="done", updated_at=now)
            )


async def _get(conn: AsyncConnection, row_id: int) -> OutboxRow | None:
    row = (await conn.execute(select(outbox).where(outbox.c.id == row_id))).mappings().one_or_none()
    return None if row is None else _row(row)


def _row(row: Any) -> OutboxRow:
    return OutboxRow(
        **{name: row[name] for name in OutboxRow.__dataclass_fields__ if name != "id"}, id=row["id"]
    )
