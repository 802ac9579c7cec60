"""The download queue: MMS attachments are fetched after the decision, on their own queue.

Row life (``attachments``): the pipeline archives a message with :meth:`DownloadQueue.archive`, one
transaction that gives each announced attachment a row in state ``pending`` (a malformed
announcement is ``refused`` at once: there is nothing sound to fetch) and moves the message to
``archived``; the decision never waits for the files. The download worker
(:mod:`rcinbox.service.downloads`) reads what is due (:meth:`due`: ``pending`` and its retry time,
if any, has come; the oldest first) and records the outcome with :meth:`finish` (``stored`` or
``refused``) or a failed attempt with :meth:`failed` (retried at ``retry_at``, or ``failed`` for
good: parked visibly, the reason in ``last_error`` and ``reason``). Rows are only ever changed
while ``pending``, so an outcome is recorded once. A pending download survives a restart: it is
simply still due. Inserting pending rows is deduplicated by ``UNIQUE(message_pk, attachment_id)``
(archiving twice adds nothing).

Replicas (one PostgreSQL database, a download worker each) claim what they fetch: :meth:`due` with
a ``lease`` is one transaction that picks the due rows with ``SELECT … FOR UPDATE SKIP LOCKED`` (as the
outbox claims its replies: a row another replica's claim is writing is passed over, not waited
for; SQLite's writer holds the whole database and has no row locks) and, by ``UPDATE … RETURNING``
with the due condition again, pushes their ``next_attempt_at`` forward by the lease (far longer
than a download takes) and records the replica in ``claimed_by``, so two replicas never fetch one
attachment at once. :meth:`finish` and :meth:`failed` clear the claim. A replica that dies
mid-download leaves the row due again: at once when the live replicas see its heartbeat gone
(:meth:`end_orphan_claims`, called by :mod:`rcinbox.service.membership` with the outbox's), else
when the lease runs out. A repeated download stores nothing twice anyway (the bodies are
content-addressed, files are replaced atomically). A process alone (SQLite) reads without a lease,
as before: its one worker reads the queue once through per round, and after a crash its pending
downloads are simply due at the next start.

A pending row keeps the announcement's ``note`` (an odd but usable entry) in ``reason`` as
``note: …``; the outcome keeps it there too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rcinbox.clock import Clock
from rcinbox.events import AttachmentRef
from rcinbox.store.engine import reading, transaction
from rcinbox.store.members import claimed_by_gone
from rcinbox.store.records import AttachmentRecord, PendingDownload
from rcinbox.store.schema import attachments, messages

NOTE = "note: "
DEFAULT_LEASE = timedelta(minutes=5)  # a claim's life: far longer than one download can take


def queued_values(message_pk: int, ref: AttachmentRef, now: datetime) -> dict[str, Any]:
    """The ``attachments`` row for a download of ``ref`` to queue (or, malformed, refused)."""
    values: dict[str, Any] = {
        "message_pk": message_pk,
        "attachment_id": ref.id,
        "content_type": ref.content_type,
        "size": ref.size,
        "uri": ref.uri[:2000],
        "state": "pending",
        "reason": None if ref.note is None else NOTE + ref.note,
        "attempts": 0,
        "stored_at": now,
    }
    if ref.problem is not None:
        values.update(state="refused", reason=f"malformed: {ref.problem}")
    return values


async def add_pending(
    conn: AsyncConnection, message_pk: int, refs: Sequence[AttachmentRef], now: datetime
) -> int:
    """Queue the downloads of ``refs`` not queued yet, inside the caller's transaction; returns
    how many are pending now (new ones included)."""
    if not refs:
        return 0
    query = select(attachments.c.attachment_id).where(attachments.c.message_pk == message_pk)
    known = set((await conn.scalars(query)).all())
    rows, seen = [], set(known)
    for ref in refs:
        if ref.id not in seen:
            seen.add(ref.id)
            rows.append(queued_values(message_pk, ref, now))
    if rows:
        await conn.execute(insert(attachments), rows)
    return sum(1 for row in rows if row["state"] == "pending")


class DownloadQueue:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    async def archive(self, message_pk: int, refs: Sequence[AttachmentRef]) -> int:
        """``received`` → ``archived`` with a pending download per announced attachment, in one
        transaction; returns how many downloads are newly pending."""
        now = self.clock.now()
        async with transaction(self.engine) as conn:
            pending = await add_pending(conn, message_pk, refs, now)
            await conn.execute(
                update(messages)
                .where(messages.c.id == message_pk)
                .values(state="archived", next_attempt_at=None, updated_at=now)
            )
        return pending

    async def due(
        self,
        limit: int = 50,
        *,
        after: int = 0,
        lease: timedelta | None = None,
        claimant: str | None = None,
    ) -> list[PendingDownload]:
        """Pending downloads whose retry time (if any) has come, in row order (the oldest first),
        from the row after ``after`` on (a worker reads the queue once through per round). With a
        ``lease`` (replicas) they are claimed by ``claimant`` for that long, in the same statement:
        another worker's ``due`` does not return them until the claim ends (module docstring)."""
        now = self.clock.now()
        where = _due(now, after)
        if lease is None:
            query = (
                select(attachments, messages.c.extension_id, messages.c.message_id)
                .join(messages, messages.c.id == attachments.c.message_pk)
                .where(where)
                .order_by(attachments.c.id)
                .limit(limit)
            )
            async with reading(self.engine) as conn:
                rows = (await conn.execute(query)).mappings().all()
            return [_pending(row) for row in rows]
        free = (
            select(attachments.c.id)
            .where(where)
            .order_by(attachments.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with transaction(self.engine) as conn:
            # Two statements in one transaction: the rows picked stay locked until it commits (a
            # subquery with LIMIT … SKIP LOCKED inside the UPDATE may be run again per row).
            picked = list((await conn.scalars(free)).all())
            claiming = (
                update(attachments)
                .where(attachments.c.id.in_(picked), where)
                .values(next_attempt_at=now + lease, claimed_by=claimant)
                .returning(attachments.c.id)
            )
            claimed = list((await conn.scalars(claiming)).all()) if picked else []
            query = (
                select(attachments, messages.c.extension_id, messages.c.message_id)
                .join(messages, messages.c.id == attachments.c.message_pk)
                .where(attachments.c.id.in_(claimed))
                .order_by(attachments.c.id)
            )
            rows = (await conn.execute(query)).mappings().all() if claimed else []
        return [_pending(row) for row in rows]

    async def end_orphan_claims(self, within: float) -> int:
        """Downloads claimed by replicas whose heartbeat is older than ``within`` s (or gone) are
        due now; how many."""
        now = self.clock.now()
        ending = (
            update(attachments)
            .where(
                attachments.c.state == "pending",
                attachments.c.next_attempt_at > now,
                claimed_by_gone(attachments.c.claimed_by, now, within),
            )
            .values(next_attempt_at=None, claimed_by=None)
        )
        async with transaction(self.engine) as conn:
            return int((await conn.execute(ending)).rowcount)

    async def next_due(self) -> datetime | None:
        """The earliest scheduled retry among pending downloads (``None``: nothing scheduled)."""
        query = select(func.min(attachments.c.next_attempt_at)).where(attachments.c.state == "pending")
        async with reading(self.engine) as conn:
            return cast(datetime | None, await conn.scalar(query))

    async def finish(self, row_id: int, record: AttachmentRecord) -> bool:
        """Record the outcome (``stored`` or ``refused``) of a pending download; ``False`` if the
        row was no longer pending."""
        values = {
            name: getattr(record, name)
            for name in ("content_type", "state", "size", "sha256", "path", "reason")
        }
        return await self._change(row_id, **values, next_attempt_at=None, last_error=None, claimed_by=None)

    async def failed(self, row_id: int, error: str, retry_at: datetime | None) -> bool:
        """A failed attempt: try again at ``retry_at``, or (``None``) park it as ``failed``."""
        values: dict[str, Any] = {
            "attempts": attachments.c.attempts + 1,
            "last_error": error[:2000],
            "next_attempt_at": retry_at,
            "claimed_by": None,
        }
        if retry_at is None:
            values.update(state="failed", reason=error[:2000])
        return await self._change(row_id, **values)

    async def _change(self, row_id: int, **values: Any) -> bool:
        async with transaction(self.engine) as conn:
            result = await conn.execute(
                update(attachments)
                .where(and_(attachments.c.id == row_id, attachments.c.state == "pending"))
                .values(**values, stored_at=self.clock.now())
            )
        return bool(result.rowcount == 1)


def _due(now: datetime, after: int) -> ColumnElement[bool]:
    return and_(
        attachments.c.state == "pending",
        attachments.c.id > after,
        or_(attachments.c.next_attempt_at.is_(None), attachments.c.next_attempt_at <= now),
    )


def _pending(row: Any) -> PendingDownload:
    reason = row["reason"] or ""
    ref = AttachmentRef(
        id=row["attachment_id"],
        uri=row["uri"],
        content_type=row["content_type"],
        size=row["size"],
        note=reason[len(NOTE) :] if reason.startswith(NOTE) else None,
    )
    return PendingDownload(
        id=row["id"],
        message_pk=row["message_pk"],
        extension_id=row["extension_id"],
        message_id=row["message_id"],
        ref=ref,
        attempts=row["attempts"],
    )
