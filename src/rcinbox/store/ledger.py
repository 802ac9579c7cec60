"""The ledger reads: opt-out state and the automated texts already sent (or queued) that concern
a counterpart. Keyed by :func:`rcinbox.numbers.same_key` on read as on write.

Repeat tracking is per (extension, sender): the last reply per handle and the last escalation are
those of one extension (``outbox.extension_id``, the extension that received the text), so a
contact who texts two users who are both away gets each user's own reply. The loop fuse's count
(:func:`automated_count`) is every automated text to the counterpart, whichever extension sent it.

:func:`decision_facts` is what the pipeline reads for a decision: all of them in one statement; the
single-purpose reads below stay for the outbox's re-checks and the tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import BindParameter, Select, and_, bindparam, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.numbers import same_key
from rcinbox.store.engine import reading
from rcinbox.store.outbox_queue import LEDGER_STATES, ledger_time
from rcinbox.store.records import DecisionFacts, SenderHistory
from rcinbox.store.schema import opt_outs, outbox


async def opted_out(engine: AsyncEngine, number: str) -> bool:
    async with reading(engine) as conn:
        state = await conn.scalar(select(opt_outs.c.state).where(opt_outs.c.number == same_key(number)))
    return state == "opted_out"


async def last_reply_at(
    engine: AsyncEngine, counterpart: str, handle: str, extension_id: str | None = None
) -> datetime | None:
    """The last reply with ``handle`` to ``counterpart`` (from ``extension_id``; ``None``: any)."""
    query = select(func.max(ledger_time())).where(
        outbox.c.to_number == same_key(counterpart),
        outbox.c.kind == "reply",
        outbox.c.handle == handle,
        outbox.c.state.in_(LEDGER_STATES),
        true() if extension_id is None else outbox.c.extension_id == extension_id,
    )
    async with reading(engine) as conn:
        return cast(datetime | None, await conn.scalar(query))


async def history(engine: AsyncEngine, sender: str, extension_id: str | None = None) -> SenderHistory:
    """One query: the last reply to ``sender`` per handle, and the last escalation about them,
    from ``extension_id`` (``None``: from any extension)."""
    async with reading(engine) as conn:
        rows = (await conn.execute(_history(same_key(sender), extension_id))).all()
    return _sender_history(rows)


async def decision_facts(
    engine: AsyncEngine, pk: int, sender: str, extension_id: str, since: datetime
) -> DecisionFacts:
    """One statement (:data:`_FACTS`): the opt-out state of ``sender``, their history with
    ``extension_id`` (:func:`history`), whether message ``pk`` already has a reply, and the
    automated texts to them since ``since`` (from every extension: the loop fuse)."""
    values = {"key": same_key(sender), "pk": pk, "since": since, "extension": extension_id}
    async with reading(engine) as conn:
        rows = (await conn.execute(_FACTS, values)).all()
    first = rows[0]
    return DecisionFacts(
        opted_out=first.opt_state == "opted_out",
        history=_sender_history([row for row in rows if row.kind is not None]),
        replied_to_message=bool(first.replied),
        automated_count=int(first.automated or 0),
    )


def _history(key: str | BindParameter[str], extension: str | BindParameter[str] | None) -> Select[Any]:
    return (
        select(outbox.c.kind, outbox.c.handle, func.max(ledger_time()).label("last"))
        .where(
            outbox.c.state.in_(LEDGER_STATES),
            true() if extension is None else outbox.c.extension_id == extension,
            or_(
                and_(outbox.c.to_number == key, outbox.c.kind == "reply"),
                and_(outbox.c.about == key, outbox.c.kind == "escalation"),
            ),
        )
        .group_by(outbox.c.kind, outbox.c.handle)
    )


def _sender_history(rows: Sequence[Any]) -> SenderHistory:
    replies = {row.handle: row.last for row in rows if row.kind == "reply"}
    escalations = [row.last for row in rows if row.kind == "escalation"]
    return SenderHistory(replies, max(escalations, default=None))


async def automated_count(engine: AsyncEngine, counterpart: str, since: datetime) -> int:
    """Automated texts to ``counterpart`` (any handle, replies and escalations) since ``since``."""
    query = select(func.count()).where(
        outbox.c.to_number == same_key(counterpart),
        outbox.c.state.in_(LEDGER_STATES),
        ledger_time() >= since,
    )
    async with reading(engine) as conn:
        return int(await conn.scalar(query) or 0)


def _facts() -> Select[Any]:
    """What :func:`decision_facts` reads, built once (parameters ``key``, ``pk``, ``since``,
    ``extension``): the
    per-sender values come on every row beside the history's rows, at least one row (an outer join
    of the one-row values to the history)."""
    key = bindparam("key", type_=outbox.c.to_number.type)
    since = bindparam("since", type_=outbox.c.queued_at.type)
    values = select(
        select(opt_outs.c.state).where(opt_outs.c.number == key).scalar_subquery().label("opt_state"),
        exists()
        .where(
            outbox.c.message_pk == bindparam("pk", type_=outbox.c.message_pk.type), outbox.c.kind == "reply"
        )
        .label("replied"),
        select(func.count())
        .select_from(outbox)
        .where(outbox.c.to_number == key, outbox.c.state.in_(LEDGER_STATES), ledger_time() >= since)
        .scalar_subquery()
        .label("automated"),
    ).subquery("facts")
    extension = bindparam("extension", type_=outbox.c.extension_id.type)
    history_rows = _history(key, extension).subquery("history")
    return select(values, history_rows).select_from(values.outerjoin(history_rows, true()))


_FACTS = _facts()
