"""A scripted message-sync API for the catch-up tests: the answers it gives (``answer`` of
``record``s, timed from ``NOW``), the calls it records, and an intake that remembers what it got."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from rcinbox.events import InboundMessage
from rcinbox.wire import MessageRecord, MessageSync, parse_items

NOW = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
URI = "https://platform.example/restapi/v1.0/account/37439510/extension/101/message-sync?syncType=FSync"


def record(message_id: int, minutes_ago: float, **changes: Any) -> dict[str, Any]:
    created = (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")
    return {
        "id": message_id,
        "type": "SMS",
        "direction": "Inbound",
        "availability": "Alive",
        "from": {"phoneNumber": "+14155550100"},
        "to": [{"phoneNumber": "+16505550100"}],
        "subject": f"text {message_id}",
        "creationTime": created,
    } | changes


def answer(records: list[dict[str, Any]], sync_type: str = "FSync", older: bool = False) -> dict[str, Any]:
    return {
        "uri": URI,
        "records": records,
        "syncInfo": {
            "syncType": sync_type,
            "syncToken": f"token-after-{len(records)}",
            "syncTime": NOW.isoformat().replace("+00:00", "Z"),
            "olderRecordsExist": older,
        },
    }


class ScriptedApi:
    """Answers message_sync from a script; records every call."""

    def __init__(self, *answers: dict[str, Any] | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str | None, datetime | str | None]] = []
        self.listed: list[dict[str, Any]] = []
        self.older: list[dict[str, Any]] = []

    async def message_sync(
        self, sync_token: str | None, ext: str = "~", date_from: datetime | str | None = None
    ) -> MessageSync:
        self.calls.append((sync_token, date_from))
        result = self.answers.pop(0)
        if isinstance(result, Exception):
            raise result
        return MessageSync.model_validate(result)

    async def list_messages(self, ext: str = "~", **filters: Any) -> tuple[MessageRecord, ...]:
        self.listed.append(filters)
        return parse_items(MessageRecord, self.older)


class Intake:
    def __init__(self) -> None:
        self.seen: dict[str, InboundMessage] = {}
        self.batches: list[int] = []  # the size of every batch accepted

    async def accept(self, msg: InboundMessage) -> bool:
        new = msg.message_id not in self.seen
        self.seen.setdefault(msg.message_id, msg)
        return new

    async def accept_many(self, msgs: Sequence[InboundMessage]) -> int:
        self.batches.append(len(msgs))
        return sum([await self.accept(msg) for msg in msgs])
