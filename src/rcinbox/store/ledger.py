"""The ledger reads: opt-out state and the automated texts already sent (or queued) that concern
a counterpart. Keyed by :func:`rcinbox.numbers.same_key` on read as on write.

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


async def last_reply_at(engine: AsyncEngine, counterpart: str, handle: str) -> datetime | None:
    query = select(func.max(ledger_time())).where(
        outbox.c.to_number == same_key(counterpart),
        outbox.c.kind == "reply",
        outbox.c.handle == handle,
        outbox.c.state.in_(LEDGER_STATES),
    )
    async with reading(engine) as conn:
        return cast(datetime | None, await conn.scalar(query))


async def history(engine: AsyncEngine, sender: str) -> SenderHistory:
    """One query: the last reply to ``sender`` per handle, and the last escalation about them."""
    async with reading(engine) as conn:
        rows = (await conn.execute(_history(same_key(sender)))).all()
    return _sender_history(rows)


async def decision_facts(engine: AsyncEngine, pk: int, sender: str, since: datetime) -> DecisionFacts:
    """One statement (:data:`_FACTS`): the opt-out state of ``sender``, their history
    (:func:`history`), whether message ``pk`` already has a reply, and the automated texts to them
    since ``since``."""
    async with reading(engine) as conn:
        rows = (await conn.execute(_FACTS, {"key": same_key(sender), "pk": pk, "since": since})).all()
    first = rows[0]
    return DecisionFacts(
        opted_out=first.opt_state == "opted_out",
        history=_sender_history([row for row in rows if row.kind is not None]),
        replied_to_message=bool(first.replied),
        automated_count=int(first.automated or 0),
    )


def _history(key: str | BindParameter[str]) -> Select[Any]:
    return (
        select(outbox.c.kind, outbox.c.handle, func.max(ledger_time()).label("last"))
        .where(
            outbox.c.state.in_(LEDGER_STATES),
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
    """What :func:`decision_facts` reads, built once (parameters ``key``, ``pk``, ``since``): the
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
    history_rows = _history(key).subquery("history")
    return select(values, history_rows).select_from(values.outerjoin(history_rows, true()))


_FACTS = _facts()
