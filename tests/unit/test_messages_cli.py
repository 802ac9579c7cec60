"""``rcinbox messages``: the archive newest first with decisions, as a table and as JSON; it needs
no RingCentral credentials; a missing archive is a clear error."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from typer.testing import CliRunner, Result

from rcinbox.cli.main import app
from rcinbox.events import InboundMessage
from rcinbox.store import AttachmentRecord, DecisionRecord, Store

EXT = "62264425016"
UNCLASSIFIED = {"intent": None, "confidence": None, "backend": None, "replyKind": None}
ALEX = "+16505550100"
NO_CREDENTIALS: dict[str, str | None] = {
    "RC_APP_CLIENT_ID": None,
    "RC_APP_CLIENT_SECRET": None,
    "RC_USER_JWT": None,
    "RCINBOX_DATABASE_URL": None,
    "RCINBOX_DATA_DIR": None,
    "COLUMNS": "220",
}


def envelope(message_id: str, sender: str, name: str | None, text: str, at: str) -> dict[str, object]:
    return {
        "uuid": f"uuid-{message_id}",
        "event": f"/restapi/v1.0/account/809646016/extension/{EXT}/message-store/instant?type=SMS",
        "timestamp": at,
        "subscriptionId": "sub-1",
        "ownerId": EXT,
        "body": {
            "id": message_id,
            "from": {"phoneNumber": sender, **({"name": name} if name else {})},
            "to": [{"phoneNumber": ALEX, "target": True}],
            "type": "SMS",
            "creationTime": at,
            "lastModifiedTime": at,
            "readStatus": "Unread",
            "priority": "Normal",
            "attachments": [],
            "direction": "Inbound",
            "availability": "Alive",
            "subject": text,
            "messageStatus": "Received",
            "conversationId": "6288356833283647001",
            "owner": {"extensionId": EXT},
        },
    }


def archive(data_dir: Path) -> None:
    """Three archived messages: replied (with a photo), suppressed, and one still undecided."""
    data_dir.mkdir(parents=True)
    asyncio.run(fill(data_dir / "rcinbox.db"))


async def fill(database: Path) -> None:
    async with await Store.open(f"sqlite+aiosqlite:///{database}") as store:
        rows = [
            ("1001", "+14155550100", "Charlie Williams", "Lunch on Thursday?", "2026-11-20T15:00:00.000Z"),
            ("1002", "+12125550199", None, "Is this the bakery?", "2026-11-20T15:05:00.000Z"),
            ("1003", "+14155550101", "Dana Lopez", "Call me back", "2026-11-20T15:10:00.000Z"),
        ]
        for message_id, sender, name, text, at in rows:
            msg = InboundMessage.from_notification(envelope(message_id, sender, name, text, at), "webhook")
            assert await store.accept(msg)
        first = await store.find_message(EXT, "1001")
        second = await store.find_message(EXT, "1002")
        assert first is not None and second is not None
        await store.record_attachment(
            AttachmentRecord(
                first.pk, "77", "image/png", "http://emu/content/77", "stored", 70, "ab" * 32, "a/b.png"
            )
        )
        replied = DecisionRecord(
            "reply", "replied", "vacation", {}, "Auto-reply: Hi Charlie, I'm away.", ALEX, "+14155550100"
        )
        assert await store.conclude(first.pk, replied)
        assert await store.conclude(second.pk, DecisionRecord("suppress", "not-a-contact", "vacation", {}))


def messages(*args: str, env: dict[str, str | None] | None = None) -> Result:
    # Ambient RCINBOX_* variables (the Makefile's RCINBOX_SDK_PYTHON) would be refused as typos.
    ambient: dict[str, str | None] = {key: None for key in os.environ if key.startswith("RCINBOX_")}
    return CliRunner().invoke(app, ["messages", *args], env=ambient | NO_CREDENTIALS | (env or {}))


def test_table_lists_newest_first_with_decisions(tmp_path: Path) -> None:
    archive(tmp_path / "data")
    result = messages("--data-dir", str(tmp_path / "data"), "--env-file", os.devnull)

    assert result.exit_code == 0, result.output
    out = result.output
    assert "rcinbox archive: 3 latest messages, newest first" in out
    assert out.index("Call me back") < out.index("Is this the bakery?") < out.index("Lunch on Thursday?")
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "Lunch on Thursday?" in line)
    charlie = lines[at]
    assert "reply: replied" in charlie and "queued" in lines[at + 1] and "+14155550100" in charlie
    assert "(+1 attachment)" in lines[at + 1]  # one stored attachment, under the text
    at = next(i for i, line in enumerate(lines) if "Is this the bakery?" in line)
    assert "suppress: not-a-contact" in lines[at]
    dana = next(line for line in out.splitlines() if "Call me back" in line)
    assert "received" in dana  # not decided yet
    assert "Charlie Williams" in out


def test_json_is_machine_readable(tmp_path: Path) -> None:
    archive(tmp_path / "data")
    result = messages("--json", "--limit", "2", env={"RCINBOX_DATA_DIR": str(tmp_path / "data")})

    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)
    assert [e["messageId"] for e in entries] == ["1003", "1002"]
    dana, stranger = entries
    assert dana == {
        "id": 3,
        "messageId": "1003",
        "extensionId": EXT,
        "createdAt": "2026-11-20T15:10:00+00:00",
        "from": "+14155550101",
        "fromName": "Dana Lopez",
        "to": ALEX,
        "text": "Call me back",
        "attachments": [],
        "state": "received",
        "decision": None,
        "replyState": None,
        "replyError": None,
        "replyText": None,
        "escalation": None,
        "lastError": None,
    }
    assert stranger["decision"] == {"action": "suppress", "reason": "not-a-contact"} | UNCLASSIFIED
    assert stranger["state"] == "done"


def test_json_shows_the_attachments_and_reply_state(tmp_path: Path) -> None:
    archive(tmp_path / "data")
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'rcinbox.db'}"
    result = messages("--json", "--database-url", url, env={"RCINBOX_DATA_DIR": str(tmp_path / "files")})

    assert result.exit_code == 0, result.output
    charlie = json.loads(result.output)[-1]
    assert (charlie["replyState"], charlie["replyText"], charlie["decision"]) == (
        "queued",
        None,  # not sent (yet)
        {"action": "reply", "reason": "replied"} | UNCLASSIFIED,
    )
    [photo] = charlie["attachments"]  # the path is under the data directory, made absolute
    assert photo["path"] == str((tmp_path / "files" / "a" / "b.png").absolute())


def test_a_missing_archive_is_an_error(tmp_path: Path) -> None:
    result = messages("--data-dir", str(tmp_path / "nothing-here"))
    assert result.exit_code == 1
    assert f"error: no archive at {tmp_path / 'nothing-here' / 'rcinbox.db'} yet" in result.output
    assert not (tmp_path / "nothing-here").exists()  # reading never creates the database


def test_a_bad_setting_is_refused_with_its_name(tmp_path: Path) -> None:
    result = messages(env={"RCINBOX_DATABASE_URL": "not a url"})
    assert result.exit_code == 2
    assert "RCINBOX_DATABASE_URL must be an SQLAlchemy URL" in result.output
