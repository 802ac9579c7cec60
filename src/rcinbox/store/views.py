"""The dashboard's read models of the archive: the conversations and one conversation's thread.

Each page is one statement (no query per row):

- :func:`conversations`: one row per counterpart (the number that texted), newest first: the last
  message either way (an inbound text, or a reply that was sent), how many texts they sent, their
  name and whether they opted out. The name: the address book's (first and last name, as the
  latest decision about them recorded it: ``facts.contact_name``/``contact_last_name``) and the
  platform's (``from.name`` of their latest text that had one); :attr:`Conversation.name` picks.
- :func:`thread`: one counterpart's inbound texts (newest page first, each page in time order),
  each with its decision (:func:`rcinbox.store.explain.explain` says it in words), its reply and
  escalation (outbox rows) and its MMS attachments (their download's outcome: where the file is).

Both filter by extension (``extension_id``; ``None``: all of them). Counterparts are the numbers
as the messages hold them (E.164, as RingCentral sends them); a thread also finds the number
given in another format (:func:`rcinbox.numbers.same_key`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Subquery

from rcinbox.numbers import same_key
from rcinbox.store.engine import reading
from rcinbox.store.records import (
    AttachmentRecord,
    DecisionRecord,
    MessageState,
    OutboxRow,
    Page,
    attachment,
    page_window,
    paged,
)
from rcinbox.store.schema import UtcDateTime, attachments, decisions, messages, opt_outs, outbox

Direction = Literal["inbound", "outbound"]


@dataclass(frozen=True)
class Conversation:
    counterpart: str  # the number, as the messages hold it
    contact_name: str | None  # the address book's, at the latest decision that found them there
    sender_name: str | None  # the platform's from.name, from their latest text that had one
    texts: int  # inbound texts from them (in the extension filtered on)
    last_text: str
    last_at: datetime
    last_direction: Direction  # outbound: the last was a reply rcinbox sent them
    opted_out: bool

    @property
    def name(self) -> str | None:
        return self.contact_name or self.sender_name


@dataclass(frozen=True)
class ThreadMessage:
    """An inbound text as the thread shows it (the archive's columns, without the raw envelope)."""

    pk: int
    extension_id: str
    message_id: str
    sender: str
    sender_name: str | None
    receiving_number: str | None
    text: str
    created_at: datetime
    state: MessageState
    last_error: str | None


@dataclass(frozen=True)
class ThreadEntry:
    message: ThreadMessage
    decision: DecisionRecord | None  # None: not decided yet (or the message failed)
    reply: OutboxRow | None
    escalation: OutboxRow | None
    attachments: tuple[AttachmentRecord, ...]


@dataclass(frozen=True)
class ThreadEvent:
    """One line of the thread in time order: a text in, a reply or an escalation out."""

    at: datetime
    kind: Literal["inbound", "reply", "escalation"]
    entry: ThreadEntry


def timeline(entries: Sequence[ThreadEntry]) -> list[ThreadEvent]:
    """The texts of ``entries`` in time order: each inbound text, and each reply or escalation at
    the time it was sent (else queued)."""
    events = []
    for entry in entries:
        events.append(ThreadEvent(entry.message.created_at, "inbound", entry))
        for out in (entry.reply, entry.escalation):
            if out is not None:
                events.append(ThreadEvent(out.sent_at or out.queued_at, out.kind, entry))
    return sorted(events, key=lambda event: event.at)


# -- conversations ------------------------------------------------------------------------------


async def conversations(
    engine: AsyncEngine, extension_id: str | None, number: int, size: int
) -> Page[Conversation]:
    limit, offset = page_window(number, size)
    async with reading(engine) as conn:
        rows = (await conn.execute(_conversations(extension_id, limit, offset))).mappings().all()
    return paged([_conversation(row) for row in rows], number, size)


def _conversations(extension_id: str | None, limit: int, offset: int) -> Select[Any]:
    """Per counterpart: their last inbound text's time and count (grouped on the index of
    ``(sender, created_at)``), their last sent reply's time; the page of the latest; then, for the
    page's rows only, the texts themselves, the names and the opt-out state."""
    ours = [] if extension_id is None else [messages.c.extension_id == extension_id]
    inbound = (
        select(
            messages.c.sender.label("counterpart"),
            func.max(messages.c.created_at).label("in_at"),
            func.count().label("texts"),
        )
        .where(*ours)
        .group_by(messages.c.sender)
        .subquery("inbound")
    )
    outbound = (
        select(messages.c.sender.label("counterpart"), func.max(_SENT_AT).label("out_at"))
        .join(messages, messages.c.id == outbox.c.message_pk)
        .where(*_SENT_REPLY, *ours)
        .group_by(messages.c.sender)
        .subquery("outbound")
    )
    latest = case((outbound.c.out_at > inbound.c.in_at, outbound.c.out_at), else_=inbound.c.in_at)
    page = (
        select(inbound, outbound.c.out_at, latest.label("at"))
        .outerjoin(outbound, outbound.c.counterpart == inbound.c.counterpart)
        .order_by(latest.desc(), inbound.c.counterpart)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    who = page.c.counterpart
    last_in = (
        select(messages.c.text)
        .where(messages.c.sender == who, *ours)
        .order_by(messages.c.created_at.desc(), messages.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    last_out = (
        select(outbox.c.text)
        .join(messages, messages.c.id == outbox.c.message_pk)
        .where(messages.c.sender == who, *_SENT_REPLY, *ours)
        .order_by(_SENT_AT.desc(), outbox.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            page, opt_outs.c.state.label("opt_state"), last_in.label("in_text"), last_out.label("out_text")
        )
        .add_columns(_sender_name(who), _contact_name(who))
        .outerjoin(opt_outs, opt_outs.c.number == who)
        .order_by(page.c.at.desc(), who)
    )


_SENT_AT = func.coalesce(outbox.c.sent_at, outbox.c.queued_at, type_=UtcDateTime)
_SENT_REPLY = (outbox.c.kind == "reply", outbox.c.state == "sent")


def _sender_name(counterpart: Any) -> Any:
    return (
        select(messages.c.sender_name)
        .where(messages.c.sender == counterpart, messages.c.sender_name.is_not(None))
        .order_by(messages.c.id.desc())
        .limit(1)
        .scalar_subquery()
        .label("sender_name")
    )


def _contact_name(counterpart: Any) -> Any:
    first = decisions.c.facts["contact_name"].as_string()
    last = func.coalesce(decisions.c.facts["contact_last_name"].as_string(), "")
    return (
        select(first + " " + last)
        .join(messages, messages.c.id == decisions.c.message_pk)
        .where(messages.c.sender == counterpart, first.is_not(None))
        .order_by(decisions.c.id.desc())
        .limit(1)
        .scalar_subquery()
        .label("contact_name")
    )


def _conversation(row: Any) -> Conversation:
    outbound = row["out_at"] is not None and row["out_at"] > row["in_at"]
    return Conversation(
        counterpart=row["counterpart"],
        contact_name=(row["contact_name"] or "").strip() or None,
        sender_name=row["sender_name"],
        texts=int(row["texts"] or 0),
        last_text=row["out_text"] if outbound else row["in_text"],
        last_at=row["at"],
        last_direction="outbound" if outbound else "inbound",
        opted_out=row["opt_state"] == "opted_out",
    )


# -- one thread ---------------------------------------------------------------------------------

_MESSAGE = tuple(ThreadMessage.__dataclass_fields__)
_DECISION = (
    "action",
    "reason",
    "handle",
    "facts",
    "reply_text",
    "reply_from",
    "reply_to",
    "decided_at",
    "intent",
    "confidence",
    "backend",
    "reply_kind",
)
_ATTACHMENT = tuple(AttachmentRecord.__dataclass_fields__)
_OUTBOX = tuple(OutboxRow.__dataclass_fields__)


async def thread(
    engine: AsyncEngine, counterpart: str, extension_id: str | None, number: int, size: int
) -> Page[ThreadEntry]:
    """The texts of ``counterpart``: page 1 holds the newest ``size``, each page in time order."""
    limit, offset = page_window(number, size)
    async with reading(engine) as conn:
        rows = (await conn.execute(_thread(counterpart, extension_id, limit, offset))).mappings().all()
    entries = _entries(rows)
    more = len(entries) > size
    return Page(tuple(entries[1:] if more else entries), number, size, more)


def _thread(counterpart: str, extension_id: str | None, limit: int, offset: int) -> Select[Any]:
    where: list[ColumnElement[bool]] = [messages.c.sender.in_(sorted({counterpart, same_key(counterpart)}))]
    if extension_id is not None:
        where.append(messages.c.extension_id == extension_id)
    page = (
        select(messages.c.id.label("page_pk"))
        .where(*where)
        .order_by(messages.c.created_at.desc(), messages.c.id.desc())
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    reply, escalation = outbox.alias("reply"), outbox.alias("escalation")
    columns = [
        *(messages.c[name if name != "pk" else "id"].label(f"m_{name}") for name in _MESSAGE),
        decisions.c.id.label("d_id"),
        *(decisions.c[name].label(f"d_{name}") for name in _DECISION),
        *_prefixed(reply, "r_", _OUTBOX),
        *_prefixed(escalation, "e_", _OUTBOX),
        attachments.c.id.label("a_id"),
        *(attachments.c[name].label(f"a_{name}") for name in _ATTACHMENT),
    ]
    return (
        select(*columns)
        .select_from(page)
        .join(messages, messages.c.id == page.c.page_pk)
        .outerjoin(decisions, decisions.c.message_pk == messages.c.id)
        .outerjoin(reply, and_(reply.c.message_pk == messages.c.id, reply.c.kind == "reply"))
        .outerjoin(
            escalation, and_(escalation.c.message_pk == messages.c.id, escalation.c.kind == "escalation")
        )
        .outerjoin(attachments, attachments.c.message_pk == messages.c.id)
        .order_by(messages.c.created_at, messages.c.id, attachments.c.id)
    )


def _prefixed(table: Subquery | Any, prefix: str, names: Sequence[str]) -> list[Any]:
    return [table.c[name].label(f"{prefix}{name}") for name in names]


def _entries(rows: Sequence[Any]) -> list[ThreadEntry]:
    entries: dict[int, ThreadEntry] = {}
    files: dict[int, list[AttachmentRecord]] = {}
    for row in rows:
        pk = row["m_pk"]
        if pk not in entries:
            entries[pk] = _entry(row)
            files[pk] = []
        if row["a_id"] is not None:
            files[pk].append(attachment(_unprefixed(row, "a_", _ATTACHMENT)))
    return [
        ThreadEntry(entry.message, entry.decision, entry.reply, entry.escalation, tuple(files[pk]))
        for pk, entry in entries.items()
    ]


def _entry(row: Any) -> ThreadEntry:
    message = ThreadMessage(**_unprefixed(row, "m_", _MESSAGE))
    decision = None
    if row["d_id"] is not None:
        decision = DecisionRecord(**_unprefixed(row, "d_", _DECISION))
    return ThreadEntry(message, decision, _outbox_row(row, "r_"), _outbox_row(row, "e_"), ())


def _outbox_row(row: Any, prefix: str) -> OutboxRow | None:
    if row[f"{prefix}id"] is None:
        return None
    return OutboxRow(**_unprefixed(row, prefix, _OUTBOX))


def _unprefixed(row: Any, prefix: str, names: Sequence[str]) -> dict[str, Any]:
    return {name: row[f"{prefix}{name}"] for name in names}
