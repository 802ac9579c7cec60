"""The decision record as a hash chain: tamper evidence for the compliance archive.

Every decision row carries ``message_sha256`` (SHA-256 of the archived notification, canonical
JSON), ``prev_hash`` and ``hash`` = SHA-256(``prev_hash`` + canonical JSON of the decision's
fields and the message digest; the smart-reply fields of migration 0004 only when set, so older
rows verify unchanged). The chain head lives in ``kv`` (``decisions.chain_head``) and is
read ``FOR UPDATE`` inside the deciding transaction, so concurrent writers (several replicas on
PostgreSQL) serialise on it instead of forking the chain; on SQLite the write transaction already
holds the database lock. :func:`verify` walks the chain and reports the first row that does not
add up: an edited decision or message, a deleted or reordered row, or a rewritten head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from rcinbox.store.schema import decisions, kv, messages

HEAD_KEY = "decisions.chain_head"
GENESIS = "0" * 64
COVERED = ("message_pk", "action", "reason", "reply_text", "reply_from", "reply_to", "handle", "facts")
# Added by migration 0004 (smart replies): covered when set, so a decision recorded before them
# (NULL there) hashes exactly as it did, and setting one afterwards breaks its link.
COVERED_WHEN_SET = ("intent", "confidence", "backend", "reply_kind")


@dataclass(frozen=True)
class ChainReport:
    decisions: int
    ok: bool
    bad_decision: int | None = None  # id of the first decision row that does not add up
    problem: str | None = None


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def message_digest(raw: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(raw)).hexdigest()


def link(prev_hash: str, values: Mapping[str, Any]) -> str:
    covered = {name: values[name] for name in COVERED}
    covered |= {name: values[name] for name in COVERED_WHEN_SET if values.get(name) is not None}
    covered["decided_at"] = _iso(values["decided_at"])
    covered["message_sha256"] = values["message_sha256"]
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(covered)).hexdigest()


async def ensure_genesis(conn: AsyncConnection, now: datetime) -> None:
    if await conn.scalar(select(kv.c.value).where(kv.c.key == HEAD_KEY)) is None:
        await conn.execute(insert(kv).values(key=HEAD_KEY, value=GENESIS, updated_at=now))


_HEAD = select(kv.c.value).where(kv.c.key == HEAD_KEY).with_for_update()
_MOVE_HEAD = update(kv).where(kv.c.key == HEAD_KEY)


async def append(
    conn: AsyncConnection, values: dict[str, Any], raw: Mapping[str, Any], now: datetime
) -> None:
    """Insert one decision row, chained to the current head, and move the head."""
    await extend(conn, [(values, raw)], now)


async def extend(
    conn: AsyncConnection, entries: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], now: datetime
) -> None:
    """Insert decision rows (each its values and its message's ``raw``), in order, each chained to
    the one before, the first to the current head; then move the head once."""
    prev = await conn.scalar(_HEAD) or GENESIS
    rows = []
    for values, raw in entries:
        row = {**values, "message_sha256": message_digest(raw), "prev_hash": prev}
        prev = row["hash"] = link(prev, row)
        rows.append(row)
    await conn.execute(insert(decisions), rows)
    await conn.execute(_MOVE_HEAD, {"value": prev, "updated_at": now})


async def verify(conn: AsyncConnection) -> ChainReport:
    """Recompute the whole chain from the stored rows."""
    query = (
        select(decisions, messages.c.raw)
        .outerjoin(messages, messages.c.id == decisions.c.message_pk)
        .order_by(decisions.c.id)
    )
    prev, count = GENESIS, 0
    for row in (await conn.execute(query)).mappings():
        count += 1
        problem = _check(row, prev)
        if problem is not None:
            return ChainReport(count, False, row["id"], problem)
        prev = row["hash"]
    head = await conn.scalar(select(kv.c.value).where(kv.c.key == HEAD_KEY)) or GENESIS
    if head != prev:
        return ChainReport(count, False, None, "the chain head does not match the last decision")
    return ChainReport(count, True)


def _check(row: Any, prev: str) -> str | None:
    if row["prev_hash"] != prev:
        return "not linked to the previous decision (a row was removed, inserted or reordered)"
    if row["raw"] is None or message_digest(row["raw"]) != row["message_sha256"]:
        return "the archived message does not match its digest"
    if link(prev, row) != row["hash"]:
        return "the decision does not match its hash"
    return None


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()
