"""The rows :meth:`Store.conclude <rcinbox.store.Store.conclude>` writes for a decision, all inside
one transaction (:mod:`rcinbox.store.conclusions`): the decision row (hash-chained), the
opt-out/opt-in, the reply and the escalation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from rcinbox.numbers import same_key
from rcinbox.store.engine import upsert
from rcinbox.store.records import DecisionRecord
from rcinbox.store.schema import opt_outs

KEYWORD = 64  # opt_outs.keyword: the first characters of the text, whitespace folded (since 0.1.0)


def decision_values(pk: int, decision: DecisionRecord, now: datetime) -> dict[str, Any]:
    return {
        "message_pk": pk,
        "action": decision.action,
        "reason": decision.reason,
        "reply_text": decision.reply_text,
        "reply_from": decision.reply_from,
        "reply_to": decision.reply_to,
        "handle": decision.handle,
        "facts": dict(decision.facts),
        "decided_at": decision.decided_at or now,
        "intent": decision.intent,
        "confidence": decision.confidence,
        "backend": decision.backend,
        "reply_kind": decision.reply_kind,
    }


async def apply_opt(conn: AsyncConnection, msg: Any, decision: DecisionRecord) -> None:
    """Upsert the sender's opt state with the words (and, for a fuzzy opt-out, the classifier's
    confidence); an older message never overrides a newer one."""
    values = {
        "number": same_key(msg["sender"]),
        "state": "opted_out" if decision.action == "opt-out" else "opted_in",
        "keyword": " ".join(str(msg["text"]).split())[:KEYWORD],
        "words": str(msg["text"]),
        "confidence": decision.opt_confidence if decision.action == "opt-out" else None,
        "message_pk": msg["id"],
        "at": msg["created_at"],
    }
    await upsert(conn, opt_outs, values, ["number"], only_if=opt_outs.c.at <= msg["created_at"])


def outbox_rows(msg: Any, decision: DecisionRecord, now: datetime) -> list[dict[str, Any]]:
    """The outbox rows a decision queues: its reply, its escalation (each with every column)."""
    rows = []
    if decision.action == "reply":
        if not (decision.reply_text and decision.reply_from and decision.reply_to):
            raise ValueError("a reply decision needs reply_text, reply_from and reply_to")
        rows.append(
            _outbox_row(
                msg, now, decision.reply_from, decision.reply_to, decision.reply_text, decision.handle
            )
        )
    escalation = decision.escalation
    if escalation is not None:
        about = same_key(escalation.about)
        rows.append(
            _outbox_row(
                msg,
                now,
                escalation.from_number,
                escalation.to_number,
                escalation.text,
                escalation.handle,
                kind="escalation",
                about=about,
            )
        )
    return rows


def _outbox_row(
    msg: Any,
    now: datetime,
    from_number: str,
    to_number: str,
    text: str,
    handle: str,
    *,
    kind: str = "reply",
    about: str | None = None,
) -> dict[str, Any]:
    return {
        "message_pk": msg["id"],
        "extension_id": msg["extension_id"],
        "from_number": from_number,
        "to_number": same_key(to_number),
        "text": text,
        "handle": handle,
        "state": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "queued_at": now,
        "updated_at": now,
        "kind": kind,
        "about": about,
    }
