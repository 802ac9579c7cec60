"""Opt-outs for the dashboard: who opted out, when and by which words; lifting one, with its history.

An opt-out is the ``opt_outs`` row of a number in state ``opted_out`` (written by
:mod:`rcinbox.store.concluding` when a STOP, or a stop phrase the classifier is sure of, is
decided). :func:`lift` is the owner's way back (the person asked, by phone say, to be texted
again): in one transaction it records who lifted which opt-out, when and why in
``opt_out_lifts`` (kept for good) and sets the number ``opted_in`` (keyword ``lifted``), so the
consent checks (:mod:`rcinbox.store.ledger`) allow replies again. The row keeps the opt-out's
time: a STOP sent after it opts the number out again, as any STOP does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.errors import NotOptedOut
from rcinbox.numbers import same_key
from rcinbox.store.engine import reading, transaction
from rcinbox.store.records import Page, page_window, paged
from rcinbox.store.schema import messages, opt_out_lifts, opt_outs

LIFTED = "lifted"  # opt_outs.keyword of a number whose opt-out the owner lifted
REASON = 2000  # characters of a lift's reason kept


@dataclass(frozen=True)
class OptOut:
    number: str  # as the ledger keys it (E.164)
    at: datetime  # when the text that opted out was sent
    keyword: str  # its first characters, whitespace folded
    words: str | None  # the whole text (None: archived before rcinbox kept it)
    confidence: float | None  # a phrase the classifier recognised (None: a stop keyword)
    message_pk: int | None
    sender_name: str | None  # the platform's from.name on that text


@dataclass(frozen=True)
class Lift:
    number: str
    opted_out_at: datetime
    keyword: str
    words: str | None
    confidence: float | None
    message_pk: int | None
    lifted_by: str
    reason: str
    lifted_at: datetime


async def current(engine: AsyncEngine, number: int, size: int) -> Page[OptOut]:
    """The numbers opted out now, the latest first."""
    limit, offset = page_window(number, size)
    query = (
        select(opt_outs, messages.c.sender_name)
        .outerjoin(messages, messages.c.id == opt_outs.c.message_pk)
        .where(opt_outs.c.state == "opted_out")
        .order_by(opt_outs.c.at.desc(), opt_outs.c.number)
        .limit(limit)
        .offset(offset)
    )
    async with reading(engine) as conn:
        rows = (await conn.execute(query)).mappings().all()
    return paged([_opt_out(row) for row in rows], number, size)


async def lifts(engine: AsyncEngine, who: str | None, number: int, size: int) -> Page[Lift]:
    """The opt-outs lifted (of ``who`` only, in any format; ``None``: everyone's), the latest first."""
    limit, offset = page_window(number, size)
    query = select(opt_out_lifts).order_by(opt_out_lifts.c.lifted_at.desc(), opt_out_lifts.c.id.desc())
    if who is not None:
        query = query.where(opt_out_lifts.c.number == same_key(who))
    async with reading(engine) as conn:
        rows = (await conn.execute(query.limit(limit).offset(offset))).mappings().all()
    return paged([_lift(row) for row in rows], number, size)


async def lift(engine: AsyncEngine, who: str, by: str, reason: str, now: datetime) -> Lift:
    """Lift ``who``'s opt-out: :class:`~rcinbox.errors.NotOptedOut` unless they are opted out now;
    ``ValueError`` without a reason or without who lifts it."""
    by, reason = by.strip(), reason.strip()
    if not reason:
        raise ValueError("lifting an opt-out needs a reason")
    if not by:
        raise ValueError("lifting an opt-out needs the name of who lifts it")
    key = same_key(who)
    async with transaction(engine) as conn:
        found = (
            (
                await conn.execute(
                    select(opt_outs).where(opt_outs.c.number == key, opt_outs.c.state == "opted_out")
                )
            )
            .mappings()
            .one_or_none()
        )
        if found is None:
            raise NotOptedOut(f"{who} has not opted out: there is nothing to lift")
        values = {
            "number": key,
            "opted_out_at": found["at"],
            "keyword": found["keyword"],
            "words": found["words"],
            "confidence": found["confidence"],
            "message_pk": found["message_pk"],
            "lifted_by": by[:255],
            "reason": reason[:REASON],
            "lifted_at": now,
        }
        await conn.execute(insert(opt_out_lifts).values(**values))
        await conn.execute(
            update(opt_outs)
            .where(opt_outs.c.number == key)
            .values(state="opted_in", keyword=LIFTED, words=None, confidence=None, message_pk=None)
        )
    return _lift(values)


def _opt_out(row: Any) -> OptOut:
    return OptOut(**{name: row[name] for name in OptOut.__dataclass_fields__})


def _lift(row: Any) -> Lift:
    return Lift(**{name: row[name] for name in Lift.__dataclass_fields__})
