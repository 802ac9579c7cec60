"""``rcinbox messages`` in tests: ``archive`` fills a data directory with three archived messages
(replied with a photo, suppressed, undecided), ``envelope`` is one inbound text's notification, and
``messages`` runs the command with no RingCentral credentials in its environment."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from typer.testing import CliRunner, Result

from rcinbox.cli.main import app
from rcinbox.events import InboundMessage
from rcinbox.store import AttachmentRecord, DecisionRecord, Store

EXT = "62264425016"
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


async def stored_in_database(database: Path, message_id: str) -> None:
    """A picture of ``message_id`` stored with RCINBOX_ATTACHMENT_STORAGE=database: no path."""
    async with await Store.open(f"sqlite+aiosqlite:///{database}") as store:
        found = await store.find_message(EXT, message_id)
        assert found is not None
        record = AttachmentRecord(
            found.pk, "78", "image/jpeg", "http://emu/content/78", "stored", 3, "cd" * 32
        )
        assert await store.record_attachment(record)


def messages(*args: str, env: dict[str, str | None] | None = None) -> Result:
    # Ambient RCINBOX_* variables (the Makefile's RCINBOX_SDK_PYTHON) would be refused as typos.
    ambient: dict[str, str | None] = {key: None for key in os.environ if key.startswith("RCINBOX_")}
    return CliRunner().invoke(app, ["messages", *args], env=ambient | NO_CREDENTIALS | (env or {}))
