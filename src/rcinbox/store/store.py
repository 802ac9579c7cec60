"""Store: the service's durable state behind named async operations (SQLAlchemy Core).

Messages, attachments, decisions, opt-outs, the replies ledger and small key/values live here.
Opt-outs and the ledger are keyed by the normalised number (:func:`rcinbox.numbers.same_key`:
E.164, or a short code's digits) on write and on read, so "+1 (650) 555-0199" and "+16505550199"
are one counterpart. The outbox queue operations are in :mod:`rcinbox.store.outbox_queue` (``store.outbox``),
the attachment downloads' in :mod:`rcinbox.store.downloads` (``store.downloads``), attachments
stored in the database in :mod:`rcinbox.store.bodies` (``store.bodies``), the dashboard's
reads (conversations, a thread, search, today's counts, opt-outs and lifting one) in
:mod:`rcinbox.store.reads`.
Deduplication is the database's job: :meth:`Store.accept` inserts (``ON CONFLICT DO NOTHING``,
concurrent accepts committed together: :mod:`rcinbox.store.intake`) and answers ``False`` for a
message already there; :meth:`Store.conclude` records the decision, the opt-out/opt-in, the
outbox reply and the escalation in one transaction (concurrent conclusions together:
:mod:`rcinbox.store.conclusions`), so a crash leaves either all of them or none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import datetime
from types import TracebackType
from typing import Any, cast

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.clock import SYSTEM, Clock
from rcinbox.events import InboundMessage
from rcinbox.store import archive, batch, chain, kv_rows, ledger, members, migrate
from rcinbox.store.bodies import AttachmentBodies
from rcinbox.store.chain import ChainReport
from rcinbox.store.conclusions import Conclusion, Conclusions
from rcinbox.store.downloads import DownloadQueue
from rcinbox.store.engine import Duplicate, create_engine, reading, transaction, upsert
from rcinbox.store.intake import Intake
from rcinbox.store.kv_rows import LockedKv
from rcinbox.store.lease import AdvisoryLease, Lease, SoleLease
from rcinbox.store.outbox_queue import OutboxQueue
from rcinbox.store.reads import DashboardReads
from rcinbox.store.records import (
    PENDING_STATES,
    ArchiveEntry,
    AttachmentRecord,
    DecisionFacts,
    DecisionRecord,
    MessageState,
    SenderHistory,
    StoredMessage,
    announced_json,
    announced_refs,
    recipients_json,
    recipients_parties,
)
from rcinbox.store.schema import attachments, decisions, kv, messages, outbox
from rcinbox.store.sender_turns import SenderTurns


class Store(DashboardReads):
    def __init__(self, engine: AsyncEngine, clock: Clock = SYSTEM) -> None:
        self.engine = engine
        self.clock = clock
        self.outbox = OutboxQueue(engine, clock)
        self.downloads = DownloadQueue(engine, clock)
        self.bodies = AttachmentBodies(engine, clock)  # attachments stored in the database
        self.intake = Intake(engine)
        self.conclusions = Conclusions(engine, clock)  # concurrent decisions share a transaction
        self.turns = SenderTurns(engine) if self.shared else None  # replicas: one sender at a time

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @classmethod
    async def open(cls, url: str, *, clock: Clock = SYSTEM, upgrade: bool = True) -> Store:
        """Open the database at ``url`` and bring its schema to the code's version (creating it in
        an empty database; :mod:`rcinbox.store.migrate`). ``upgrade=False`` (readers) changes
        nothing and raises :class:`~rcinbox.errors.SchemaError` unless the schema is current."""
        engine = create_engine(url)
        try:
            if not upgrade:
                await migrate.check(engine)
                return cls(engine, clock)
            await migrate.upgrade(engine)
            async with transaction(engine) as conn:
                await chain.ensure_genesis(conn, clock.now())
        except Duplicate:  # another process created the chain head at the same moment
            pass
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, clock)

    async def close(self) -> None:
        await self.intake.close()
        await self.conclusions.close()
        await self.engine.dispose()

    @property
    def shared(self) -> bool:
        """Whether other processes may share this database (PostgreSQL: replicas); SQLite's is
        one process's (the data directory's lock)."""
        return self.engine.dialect.name == "postgresql"

    async def replica_beat(self, replica: str, about: str, within: float) -> int:
        """Say ``replica`` is alive; how many are (heartbeats within ``within`` s): :mod:`members`."""
        await members.beat(self.engine, self.clock, replica, about)
        return await members.live(self.engine, self.clock, within)

    async def end_orphan_claims(self, within: float) -> int:
        """Replies in flight at replicas gone for ``within`` s are due now: :mod:`members`."""
        return await members.end_orphan_claims(self.engine, self.clock, within)

    async def replica_holds(self, replica: str, about: str, row_id: int, skew: float) -> bool:
        """Say ``replica`` is alive, then whether its claim on that reply is still its own: :mod:`members`."""
        return await members.holds(self.engine, self.clock, replica, about, row_id, skew)

    async def replica_leave(self, replica: str) -> None:
        await members.leave(self.engine, replica)

    def sender_turn(self, number: str) -> AbstractAsyncContextManager[None]:
        """The sender's turn to be decided (:mod:`rcinbox.store.sender_turns`): an advisory lock
        on PostgreSQL (replicas), nothing on SQLite (one process: its lanes already take turns)."""
        if self.turns is None:
            return nullcontext()
        return self.turns.turn(number)

    def lease(self) -> Lease:
        """Who leads among the replicas on this database (:mod:`rcinbox.store.lease`): a
        PostgreSQL advisory lock, or, on SQLite (one process per data directory), always us."""
        return AdvisoryLease(self.engine) if self.shared else SoleLease()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- messages ---------------------------------------------------------------------------

    async def accept(self, msg: InboundMessage) -> bool:
        """Archive a new message (state ``received``): ``True`` once it is committed, ``False`` if it
        was already there. Concurrent calls share a transaction (:mod:`rcinbox.store.intake`)."""
        return await self.intake.accept(_message_values(msg, self.clock.now()))

    async def accept_many(self, msgs: Sequence[InboundMessage]) -> list[bool]:
        """Archive a batch of messages in one transaction (:mod:`rcinbox.store.batch`); per message,
        ``True`` if it was new (deduplicated by the constraint, as :meth:`accept` is)."""
        now = self.clock.now()
        return await batch.insert_new(self.engine, [_message_values(msg, now) for msg in msgs])

    async def intake_states(self, source: str, since: datetime) -> dict[str, int]:
        """Per state, the messages from ``source`` (``sync``: a catch-up) archived since ``since``."""
        return await batch.intake_states(self.engine, source, since)

    async def due(self, limit: int = 100, after: int = 0) -> list[StoredMessage]:
        """Messages still to process whose retry time (if any) has come, oldest first, those after
        message ``after`` only (the decision lanes keep each sender's messages in order)."""
        query = (
            select(messages).where(self._due(), messages.c.id > after).order_by(messages.c.id).limit(limit)
        )
        async with reading(self.engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_stored(row) for row in rows]

    def _due(self) -> Any:
        return and_(
            _pending(),
            or_(messages.c.next_attempt_at.is_(None), messages.c.next_attempt_at <= self.clock.now()),
        )

    async def next_message_due(self) -> datetime | None:
        """The earliest scheduled retry among pending messages (``None``: nothing scheduled)."""
        query = select(func.min(messages.c.next_attempt_at)).where(_pending())
        async with reading(self.engine) as conn:
            value = await conn.scalar(query)
        return cast(datetime | None, value)

    async def message(self, pk: int) -> StoredMessage:
        async with reading(self.engine) as conn:
            row = (await conn.execute(select(messages).where(messages.c.id == pk))).mappings().one()
        return _stored(row)

    async def find_message(self, extension_id: str, message_id: str) -> StoredMessage | None:
        where = and_(messages.c.extension_id == extension_id, messages.c.message_id == message_id)
        async with reading(self.engine) as conn:
            row = (await conn.execute(select(messages).where(where))).mappings().one_or_none()
        return None if row is None else _stored(row)

    async def advance(self, pk: int, state: MessageState) -> None:
        async with transaction(self.engine) as conn:
            await conn.execute(
                update(messages)
                .where(messages.c.id == pk)
                .values(state=state, next_attempt_at=None, updated_at=self.clock.now())
            )

    async def message_failed(self, pk: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed step: retry at ``retry_at``, or park the message (``None``)."""
        values: dict[str, Any] = {
            "attempts": messages.c.attempts + 1,
            "last_error": error[:2000],
            "next_attempt_at": retry_at,
            "updated_at": self.clock.now(),
        }
        if retry_at is None:
            values["state"] = "failed"
        async with transaction(self.engine) as conn:
            await conn.execute(update(messages).where(messages.c.id == pk).values(**values))

    # -- attachments ------------------------------------------------------------------------

    async def attachments(self, pk: int) -> dict[str, AttachmentRecord]:
        query = select(attachments).where(attachments.c.message_pk == pk).order_by(attachments.c.id)
        async with reading(self.engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return {row["attachment_id"]: archive.attachment(row) for row in rows}

    async def record_attachment(self, record: AttachmentRecord) -> bool:
        """Insert the outcome for one attachment; ``False`` if one was already recorded."""
        values = {name: getattr(record, name) for name in AttachmentRecord.__dataclass_fields__}
        try:
            async with transaction(self.engine) as conn:
                await conn.execute(insert(attachments).values(**values, stored_at=self.clock.now()))
        except Duplicate:
            return False
        return True

    # -- decisions (one transaction) --------------------------------------------------------

    async def conclude(self, pk: int, decision: DecisionRecord, message: StoredMessage | None = None) -> bool:
        """Record ``decision``, apply an opt-out/opt-in and enqueue the reply, atomically.

        Returns ``False`` (and changes nothing) when the message already has a decision. A caller
        that holds the message (``message``, read from the store: its columns never change after
        intake) saves reading it again.
        """
        row = None if message is None else _as_row(message)
        return await self.conclusions.submit(Conclusion(pk, decision, row))

    async def decision(self, pk: int) -> DecisionRecord | None:
        async with reading(self.engine) as conn:
            query = select(decisions).where(decisions.c.message_pk == pk)
            row = (await conn.execute(query)).mappings().one_or_none()
        if row is None:
            return None
        return DecisionRecord(
            action=row["action"],
            reason=row["reason"],
            handle=row["handle"],
            facts=row["facts"],
            reply_text=row["reply_text"],
            reply_from=row["reply_from"],
            reply_to=row["reply_to"],
            decided_at=row["decided_at"],
            intent=row["intent"],
            confidence=row["confidence"],
            backend=row["backend"],
            reply_kind=row["reply_kind"],
        )

    async def verify_decisions(self) -> ChainReport:
        """Check the decision record's hash chain (and the archived messages it covers)."""
        async with reading(self.engine) as conn:
            return await chain.verify(conn)

    # -- ledger: opt-outs and automated texts -------------------------------------------------

    async def opted_out(self, number: str) -> bool:
        return await ledger.opted_out(self.engine, number)

    async def last_reply_at(
        self, counterpart: str, handle: str, extension_id: str | None = None
    ) -> datetime | None:
        """When the last automated reply under ``handle`` went (or was queued) to ``counterpart``
        from ``extension_id`` (``None``: from any extension)."""
        return await ledger.last_reply_at(self.engine, counterpart, handle, extension_id)

    async def history(self, sender: str, extension_id: str | None = None) -> SenderHistory:
        """The last reply to ``sender`` per handle and the last escalation about them (one query),
        from ``extension_id`` (``None``: from any extension)."""
        return await ledger.history(self.engine, sender, extension_id)

    async def decision_facts(self, pk: int, sender: str, extension_id: str, since: datetime) -> DecisionFacts:
        """What a decision about message ``pk`` from ``sender`` to ``extension_id`` needs from the
        ledger, in one read: opt-out state, the history with that extension, whether the message
        has a reply, automated texts since ``since`` (from every extension: the loop fuse)."""
        return await ledger.decision_facts(self.engine, pk, sender, extension_id, since)

    async def automated_count(self, counterpart: str, since: datetime) -> int:
        """Automated texts to ``counterpart`` (any handle, escalations too) sent or queued since ``since``."""
        return await ledger.automated_count(self.engine, counterpart, since)

    async def has_reply(self, pk: int) -> bool:
        query = select(outbox.c.id).where(outbox.c.message_pk == pk, outbox.c.kind == "reply")
        async with reading(self.engine) as conn:
            return (await conn.scalar(query)) is not None

    # -- key/values ---------------------------------------------------------------------------

    async def kv_get(self, key: str) -> str | None:
        async with reading(self.engine) as conn:
            return cast(str | None, await conn.scalar(select(kv.c.value).where(kv.c.key == key)))

    async def kv_put(self, key: str, value: str) -> None:
        async with transaction(self.engine) as conn:
            await upsert(conn, kv, {"key": key, "value": value, "updated_at": self.clock.now()}, ["key"])

    async def kv_setdefault(self, key: str, value: str) -> str:
        """The value of ``key``, ``value`` stored first if it had none (first writer wins)."""
        return await kv_rows.setdefault(self.engine, self.clock, key, value)

    def kv_locked(self, key: str) -> AbstractAsyncContextManager[LockedKv]:
        """The row ``key`` locked for the block (other processes asking wait): :mod:`kv_rows`."""
        return kv_rows.locked(self.engine, self.clock, key)

    # -- reading the archive --------------------------------------------------------------------

    async def recent(self, limit: int = 50) -> list[ArchiveEntry]:
        """The latest archived messages with their decision, reply and attachments, newest first."""
        return await archive.recent(self.engine, limit)


def _pending() -> Any:
    return messages.c.state.in_(PENDING_STATES)


def _message_values(msg: InboundMessage, now: datetime) -> dict[str, Any]:
    return {
        "extension_id": msg.extension_id,
        "message_id": msg.message_id,
        "account_id": msg.account_id,
        "direction": "Inbound",
        "sender": msg.sender.phone_number,
        "sender_name": msg.sender.name,
        "recipients": recipients_json(msg.recipients),
        "receiving_number": msg.receiving_number,
        "text": msg.text,
        "conversation_id": msg.conversation_id,
        "created_at": msg.created_at,
        "handed_over_at": msg.handed_over_at,
        "announced": announced_json(msg.attachments),
        "received_at": now,
        "source": msg.source,
        "raw": dict(msg.raw),
        "before_first_start": msg.before_first_start,
        "state": "received",
        "attempts": 0,
        "updated_at": now,
    }


def _as_row(message: StoredMessage) -> Mapping[str, Any]:
    """The columns :meth:`Store.conclude`'s writes read, from a message already read."""
    return {
        "id": message.pk,
        "extension_id": message.extension_id,
        "sender": message.sender,
        "text": message.text,
        "created_at": message.created_at,
        "raw": message.raw,
    }


def _stored(row: Any) -> StoredMessage:
    return StoredMessage(
        pk=row["id"],
        extension_id=row["extension_id"],
        message_id=row["message_id"],
        account_id=row["account_id"],
        sender=row["sender"],
        sender_name=row["sender_name"],
        recipients=recipients_parties(row["recipients"]),
        text=row["text"],
        conversation_id=row["conversation_id"],
        created_at=row["created_at"],
        handed_over_at=row["handed_over_at"],
        announced=announced_refs(row["announced"]),
        source=row["source"],
        raw=row["raw"],
        before_first_start=row["before_first_start"],
        state=row["state"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        received_at=row["received_at"],
    )
