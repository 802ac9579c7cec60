"""``rcinbox messages`` shows what the classifier understood: the intent and its confidence under
the decision (the reply chosen when it is not the intent's own, and a queued escalation), at 80
and at 120 columns; ``--json`` has intent, confidence, backend, replyKind and the escalation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from messages_cli_kit import ALEX, EXT, envelope, messages

from rcinbox.events import InboundMessage
from rcinbox.store import DecisionRecord, EscalationRecord, Store

BACKUP = "+16505550123"


async def smart_archive(database: Path) -> None:
    async with await Store.open(f"sqlite+aiosqlite:///{database}") as store:
        texts = [
            ("2001", "+14155550100", "URGENT my card was stolen", "2026-12-21T15:00:00.000Z"),
            ("2002", "+14155550101", "thanks!", "2026-12-21T15:05:00.000Z"),
        ]
        for message_id, sender, text, at in texts:
            assert await store.accept(
                InboundMessage.from_notification(envelope(message_id, sender, None, text, at), "webhook")
            )
        urgent, thanks = [await store.find_message(EXT, m) for m, *_ in texts]
        escalation = EscalationRecord(
            "Urgent text from +14155550100", ALEX, BACKUP, "escalation:x", "+14155550100"
        )
        smart = {"intent": "urgent", "confidence": 0.91, "backend": "builtin", "reply_kind": "urgent"}
        decision = DecisionRecord(
            "reply",
            "replied",
            "urgent:x",
            {},
            "Away. Urgent? Call Sam.",
            ALEX,
            "+14155550100",
            escalation=escalation,
            **smart,  # type: ignore[arg-type]
        )
        assert await store.conclude(urgent.pk, decision)  # type: ignore[union-attr]
        quiet = DecisionRecord(
            "suppress",
            "no-reply-needed",
            "thanks:x",
            {},
            intent="thanks",
            confidence=0.97,
            backend="builtin",
        )
        assert await store.conclude(thanks.pk, quiet)  # type: ignore[union-attr]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    asyncio.run(smart_archive(tmp_path / "data" / "rcinbox.db"))
    return tmp_path / "data"


@pytest.mark.parametrize("columns", [80, 120])
def test_the_table_shows_the_intent_under_the_decision(data_dir: Path, columns: int) -> None:
    result = messages("--data-dir", str(data_dir), env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= columns
    cells = " ".join(line.split("│")[-2].strip() for line in lines if line.startswith("│"))
    assert "urgent 0.91 +escalated" in cells
    assert "thanks 0.97" in cells and "no-reply-needed" in cells


def test_json_has_the_intent_and_the_escalation(data_dir: Path) -> None:
    result = messages("--json", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    thanks, urgent = json.loads(result.output)
    assert urgent["decision"] == {
        "action": "reply",
        "reason": "replied",
        "intent": "urgent",
        "confidence": 0.91,
        "backend": "builtin",
        "replyKind": "urgent",
    }
    assert urgent["escalation"] == {"to": BACKUP, "state": "queued"}
    assert (thanks["decision"]["intent"], thanks["decision"]["replyKind"], thanks["escalation"]) == (
        "thanks",
        None,
        None,
    )
