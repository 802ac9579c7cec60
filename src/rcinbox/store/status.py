"""Today's counts for the dashboard's status page, in the owner's time zone, in one statement.

"Today" is the calendar day of ``now`` in ``tz`` (the rules' ``vacation.timezone``): from its
local midnight to the next (a day of 23 or 25 hours when the clocks change). Counted:

- ``received``: inbound texts archived that day;
- ``replied``: replies sent that day (the outbox's ``sent_at``);
- per decision taken that day: ``suppressed`` (per reason), ``opted_out``, ``opted_in``.

``extension_id`` narrows every count to one extension (``None``: all of them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.store.engine import reading, unindexed
from rcinbox.store.schema import decisions, messages, outbox


@dataclass(frozen=True)
class DayCounts:
    day: date  # in the owner's time zone
    start: datetime  # its local midnight (aware)
    end: datetime  # the next local midnight
    received: int
    replied: int
    suppressed: Mapping[str, int]  # per reason
    opted_out: int
    opted_in: int

    @property
    def suppressed_total(self) -> int:
        return sum(self.suppressed.values())


def day_bounds(now: datetime, tz: tzinfo) -> tuple[date, datetime, datetime]:
    """The local day of ``now`` in ``tz``, and its start and end as aware datetimes."""
    day = now.astimezone(tz).date()
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return day, start, end


async def today(engine: AsyncEngine, now: datetime, tz: tzinfo, extension_id: str | None) -> DayCounts:
    day, start, end = day_bounds(now, tz)
    async with reading(engine) as conn:
        rows = (await conn.execute(_counts(start, end, extension_id))).all()
    counts = {"received": 0, "replied": 0, "opt-out": 0, "opt-in": 0}
    suppressed: dict[str, int] = {}
    for kind, reason, count in rows:
        if kind == "suppress":
            suppressed[reason] = int(count)
        elif kind in counts:
            counts[kind] += int(count)
    return DayCounts(
        day,
        start,
        end,
        received=counts["received"],
        replied=counts["replied"],
        suppressed=MappingProxyType(dict(sorted(suppressed.items()))),
        opted_out=counts["opt-out"],
        opted_in=counts["opt-in"],
    )


def _counts(start: datetime, end: datetime, extension_id: str | None) -> Select[Any]:
    def ours(table: Any) -> list[ColumnElement[bool]]:
        # checked per row of the day (its time index), not read from an index of the extension's texts
        return [] if extension_id is None else [unindexed(table.c.extension_id) == extension_id]

    received = select(literal("received"), null(), func.count()).where(
        messages.c.received_at >= start, messages.c.received_at < end, *ours(messages)
    )
    replied = select(literal("replied"), null(), func.count()).where(
        outbox.c.kind == "reply",
        outbox.c.state == "sent",
        outbox.c.sent_at >= start,
        outbox.c.sent_at < end,
        *ours(outbox),
    )
    decided = (
        select(decisions.c.action, decisions.c.reason, func.count())
        .join(messages, messages.c.id == decisions.c.message_pk)
        .where(decisions.c.decided_at >= start, decisions.c.decided_at < end, *ours(messages))
        .group_by(decisions.c.action, decisions.c.reason)
    )
    return union_all(received, replied, decided)  # type: ignore[return-value]
