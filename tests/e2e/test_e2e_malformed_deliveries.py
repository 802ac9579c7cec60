"""Hostile deliveries over both transports (issue 6): no bad notification turns into a 5xx, a
retry loop, a dropped connection or a lost message.

- a body nested thousands of levels deep (or with a creation time outside the calendar) is
  malformed: the WebHook answers 400, the WebSocket logs one line and carries on;
- lone UTF-16 surrogates in the text, the sender's number and name and the conversation id are
  archived replaced by U+FFFD, the envelope as received kept in ``raw``; the reply stays sane;
- numbers out of range (a 41-digit attachment size, ids beyond 64 bits) are archived, the absurd
  size recorded as unknown with a note, and the attachment downloaded under the usual cap.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import pytest
from e2e_kit import ALEX, ALEX_EXT, DANA, STRANGER, Harness, Live, Sent, cli_messages, replies, reply_for
from e2e_kit import rules_toml as rules
from sqlalchemy import select
from wire_kit import deliver, instant, instant_event, wire

from rcinbox.events import ORIGINAL
from rcinbox.store.schema import messages

EVERYONE = rules(audience="everyone")  # strangers are answered: the reply shows what the name became
DIAGRAM = b"\x89PNG\r\n\x1a\n" + os.urandom(20_000)


async def conversation_id(live: Live, sent: Sent) -> str | None:
    query = select(messages.c.conversation_id).where(messages.c.message_id == sent.message_id)
    async with live.store.engine.connect() as conn:
        value: str | None = await conn.scalar(query)
    return value


async def test_a_body_nested_thousands_deep_is_malformed_and_the_line_stays_up(
    e2e: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    caplog.set_level(logging.INFO, logger="rcinbox.transport")
    async with e2e.running(EVERYONE) as live:
        nested = f'{{"uuid":"1","event":"{instant_event(live)}","body":{{"id":"5","subject":{deep}}}}}'
        outside = wire(instant(live, "6", "hi", sender=STRANGER, created="0001-01-01T00:00:00+05:00"))
        statuses = [await deliver(live, e2e.transport, body) for body in (nested, outside)]
        sent = await live.text("still there?", sender=DANA)
        outcome = await live.outcome(sent)
        status = live.service.board.status
        entries = await live.store.recent()
    expected = [400, 400] if e2e.transport == "webhook" else [None, None]
    assert statuses == expected
    assert outcome.reason == "replied"
    assert [e.message_id for e in entries] == [sent.message_id]  # nothing of the junk was stored
    connects = 1 if e2e.transport == "websocket" else 0
    assert (status.connects, status.subscriptions_created) == (connects, 1)  # no reconnect, no re-subscribe
    junk = [r.getMessage() for r in caplog.records if getattr(r, "action", "").endswith(".junk")]
    assert len(junk) == 2, junk  # one line each
    assert "nested too deep" in junk[0]
    assert "creationTime is out of range" in junk[1]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_lone_surrogates_are_archived_replaced_with_the_original_kept(e2e: Harness) -> None:
    async with e2e.running(EVERYONE) as live:
        named = instant(
            live, "7001", "Caf\ud800 at 5?", sender=STRANGER, name="Zo\udfff Smith", conversation="c\ud800"
        )
        numbered = instant(live, "7002", "who dis", sender="+1415555\udbff0100", name="Sam \ud800")
        statuses = [await deliver(live, e2e.transport, wire(env)) for env in (named, numbered)]
        first, second = Sent("7001", ALEX_EXT), Sent("7002", ALEX_EXT)
        outcomes = [await live.outcome(sent) for sent in (first, second)]
        stored = await live.stored(first)
        conversations = [await conversation_id(live, sent) for sent in (first, second)]
        entries = {e.message_id: e for e in await live.store.recent()}
        listed = await asyncio.to_thread(cli_messages, e2e.data_dir, 50, e2e.database_url)
    assert statuses == ([200, 200] if e2e.transport == "webhook" else [None, None])
    assert [o.reason for o in outcomes] == ["replied", "invalid-sender"]
    assert await replies(e2e.http, STRANGER) == [(ALEX, reply_for(None))]  # no half-broken name
    assert (entries["7001"].text, entries["7001"].sender_name) == ("Caf\ufffd at 5?", "Zo\ufffd Smith")
    assert (entries["7002"].sender, entries["7002"].sender_name) == ("+1415555\ufffd0100", "Sam \ufffd")
    assert conversations == [None, "1638233798595111162"]  # an id with a replaced character is no id
    assert stored.raw["body"]["subject"] == "Caf\ufffd at 5?"
    assert json.loads(stored.raw[ORIGINAL]) == named  # the envelope as received, surrogates and all
    assert {e["messageId"]: (e["text"], e["from"]) for e in listed} == {
        "7001": ("Caf\ufffd at 5?", STRANGER),
        "7002": ("who dis", "+1415555\ufffd0100"),
    }


async def test_numbers_out_of_range_are_recorded_as_such_and_nothing_is_retried(e2e: Harness) -> None:
    async with e2e.running(EVERYONE) as live:
        genuine = await live.text("the plan", sender=DANA, attachments=[("image/png", DIAGRAM, None)])
        await live.outcome(genuine)
        [media] = [a for a in (await live.stored(genuine)).raw["body"]["attachments"] if "uri" in a]
        big_id = 10**25  # beyond 64 bits, as a JSON number
        attachment: dict[str, Any] = {
            "id": 10**70,
            "type": "MmsAttachment",
            "uri": media["uri"],
            "contentType": "image/png",
            "size": 10**40,
        }
        env = instant(
            live, big_id, "see this", sender=STRANGER, conversation=10**40, attachments=[attachment]
        )
        status = await deliver(live, e2e.transport, wire(env))
        sent = Sent(str(big_id), ALEX_EXT)
        outcome = await live.outcome(sent)
        [record] = (await live.attachments(sent)).values()
        stored = await live.stored(sent)
        conversation = await conversation_id(live, sent)
    assert status == (200 if e2e.transport == "webhook" else None)
    assert (outcome.reason, stored.attempts, stored.last_error) == ("replied", 0, None)
    assert conversation == str(10**40)
    assert (record.attachment_id, record.state, record.size) == ("#1", "stored", len(DIAGRAM))
    assert record.reason == (
        "note: declared size 1000000000…(41 digits) is out of range: treated as unknown; "
        "id longer than 64 characters: kept as #1"
    )
    assert (e2e.data_dir / str(record.path)).read_bytes() == DIAGRAM
    assert stored.raw["body"]["attachments"][1]["size"] == 10**40  # the declaration, as it came
