"""Group commit for :meth:`Store.conclude <rcinbox.store.Store.conclude>`: the decisions the
pipeline takes side by side (one sender each, :mod:`rcinbox.service.lanes`) are recorded together.

Each conclusion waits until its transaction committed. A batch is one transaction: which of its
messages already have a decision (those are ``False`` and change nothing), the decision rows
chained one after another to the head (:func:`rcinbox.store.chain.extend`), the opt-outs/opt-ins,
the outbox rows (replies, escalations) and the messages' new states (``decided`` while something
is queued, else ``done``). A crash leaves all of a batch or none of it. A store error other than a
full disk is retried one conclusion at a time, so only the one the database refuses fails.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rcinbox.clock import Clock
from rcinbox.errors import StoreError, StoreFull
from rcinbox.store import chain
from rcinbox.store.batching import GroupCommit
from rcinbox.store.concluding import apply_opt, decision_values, outbox_rows
from rcinbox.store.engine import Duplicate, transaction
from rcinbox.store.records import DecisionRecord, MessageState
from rcinbox.store.schema import decisions, messages, outbox

log = logging.getLogger("rcinbox.pipeline")

MAX_BATCH = 64

_DECIDED = select(decisions.c.message_pk).where(decisions.c.message_pk.in_(bindparam("pks", expanding=True)))
_MESSAGES = select(messages).where(messages.c.id.in_(bindparam("pks", expanding=True)))
_NEW_STATE = (
    update(messages)
    .where(messages.c.id == bindparam("pk"))
    .values(
        state=bindparam("new_state", type_=messages.c.state.type),
        next_attempt_at=None,
        last_error=None,
        updated_at=bindparam("now", type_=messages.c.updated_at.type),
    )
)


@dataclass(frozen=True)
class Conclusion:
    pk: int
    decision: DecisionRecord
    message: Mapping[str, Any] | None = None  # the columns the writes read; None: read them


class Conclusions(GroupCommit[Conclusion, bool]):
    name = "conclusions"

    def __init__(self, engine: AsyncEngine, clock: Clock, max_batch: int = MAX_BATCH) -> None:
        super().__init__(max_batch)
        self.engine = engine
        self.clock = clock

    async def write(self, items: Sequence[Conclusion]) -> list[bool | Exception]:
        try:
            async with transaction(self.engine) as conn:
                outcomes = await conclude_all(conn, items, self.clock.now())
            self.transactions += 1
            return outcomes
        except StoreFull as exc:
            return [exc] * len(items)
        except (StoreError, Duplicate, ValueError) as exc:
            if len(items) == 1:
                return [False] if isinstance(exc, Duplicate) else [exc]
            log.debug("a batch of %d decisions was refused (%s): each alone", len(items), exc)
            return [outcome for item in items for outcome in await self.write([item])]


async def conclude_all(
    conn: AsyncConnection, items: Sequence[Conclusion], now: datetime
) -> list[bool | Exception]:
    """Record ``items`` in ``conn``'s transaction; ``False`` for a message already decided."""
    decided = set((await conn.scalars(_DECIDED, {"pks": [item.pk for item in items]})).all())
    fresh: list[Conclusion] = []
    outcomes: list[bool | Exception] = []
    for item in items:
        outcomes.append(item.pk not in decided)
        if item.pk not in decided:
            decided.add(item.pk)
            fresh.append(item)
    if not fresh:
        return outcomes
    rows = await _messages(conn, fresh)
    await chain.extend(
        conn, [(decision_values(item.pk, item.decision, now), rows[item.pk]["raw"]) for item in fresh], now
    )
    queued = [row for item in fresh for row in outbox_rows(rows[item.pk], item.decision, now)]
    for item in fresh:
        if item.decision.action in ("opt-out", "opt-in"):
            await apply_opt(conn, rows[item.pk], item.decision)
    if queued:
        await conn.execute(insert(outbox), queued)
    await conn.execute(
        _NEW_STATE, [{"pk": item.pk, "new_state": _state(item.decision), "now": now} for item in fresh]
    )
    return outcomes


async def _messages(conn: AsyncConnection, items: Sequence[Conclusion]) -> dict[int, Mapping[str, Any]]:
    rows = {item.pk: item.message for item in items if item.message is not None}
    missing = [item.pk for item in items if item.message is None]
    if missing:
        rows |= {row["id"]: row for row in (await conn.execute(_MESSAGES, {"pks": missing})).mappings()}
    for item in items:
        if item.pk not in rows:
            raise StoreError(f"no message {item.pk} to conclude")
    return rows


def _state(decision: DecisionRecord) -> MessageState:
    queued = decision.action == "reply" or decision.escalation is not None
    return "decided" if queued else "done"
