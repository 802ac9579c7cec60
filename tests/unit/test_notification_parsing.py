"""Hostile notifications at the parsing seams (issue 6; end to end over both transports in
tests/e2e/test_e2e_malformed_deliveries.py): every way a body or frame can be unreadable is a
``ValueError`` (the malformed path), and whatever ``from_notification`` returns can be stored."""

from __future__ import annotations

import asyncio
import copy
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from messages_cli_kit import envelope as cli_envelope
from messages_cli_kit import messages as cli_messages
from pipeline_fakes import envelope, facts_for, vacation_rules

from rcinbox.errors import StoreError
from rcinbox.events import ORIGINAL, InboundMessage, Party
from rcinbox.payload import MAX_DEPTH, Malformed, decode
from rcinbox.rules import decide
from rcinbox.store import Store
from rcinbox.store.chain import message_digest
from rcinbox.transports.webhook import parse_notification
from rcinbox.transports.websocket import parse_frame

DEEP = "[" * 100_000 + "]" * 100_000
UNREADABLE: dict[str, str | bytes] = {
    "arrays nested 100,000 deep": DEEP,
    "objects nested 100,000 deep": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "nested one level too deep": "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
    "not UTF-8": b'["\xff\xfe"]',
    "NaN": '[{"type":"ServerNotification"}, NaN]',
    "Infinity": '{"event": "/x", "n": -Infinity}',
    "an integer of 5,000 digits": "[" + "9" * 5000 + "]",
    "not JSON": "[{]",
}


@pytest.mark.parametrize("data", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_every_unreadable_body_or_frame_is_malformed(data: str | bytes) -> None:
    raw = data.encode() if isinstance(data, str) else data
    for parse in (decode, parse_frame, parse_notification):
        with pytest.raises(ValueError):
            parse(raw)  # type: ignore[operator]
    with pytest.raises(Malformed):
        decode(raw)


def test_nesting_up_to_the_limit_is_fine() -> None:
    assert decode("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None


def test_a_lone_surrogate_is_replaced_and_the_original_kept() -> None:
    env = envelope(text="Caf\ud800", sender_name="Zo\udfff", message_id="501")
    env["body"]["conversation"]["id"] = "\ud800"
    env["body"]["from"]["location"] = "nul\x00"
    msg = InboundMessage.from_notification(env, "webhook")
    assert (msg.text, msg.sender.name, msg.conversation_id) == ("Caf\ufffd", "Zo\ufffd", None)
    assert msg.raw["body"]["from"]["location"] == "nul\ufffd"
    assert json.loads(msg.raw[ORIGINAL]) == env
    assert msg.raw[ORIGINAL].isascii()
    again = InboundMessage.from_notification(msg.raw, "webhook")  # the archived raw reads the same
    assert (again.text, again.raw) == (msg.text, msg.raw)


def test_ids_beyond_64_bits_or_negative_are_kept_as_strings() -> None:
    env = envelope()
    env["body"]["id"], env["body"]["conversation"]["id"] = 10**25, -7
    msg = InboundMessage.from_notification(env, "sync")
    assert (msg.message_id, msg.conversation_id) == (str(10**25), "-7")
    env["body"]["conversation"]["id"] = 10**70  # 71 digits: not an id any column holds
    assert InboundMessage.from_notification(env, "sync").conversation_id is None


def test_an_absurd_attachment_size_is_unknown_with_a_note() -> None:
    mms = {"id": "9", "type": "MmsAttachment", "uri": "https://media.ringcentral.com/x", "size": 2**63}
    [ref] = InboundMessage.from_notification(envelope(attachments=[mms]), "webhook").attachments
    assert (ref.size, ref.problem) == (None, None)
    assert ref.note == "declared size 9223372036854775808 is out of range: treated as unknown"
    largest = envelope(attachments=[mms | {"size": 2**63 - 1}])
    [ref] = InboundMessage.from_notification(largest, "webhook").attachments
    assert (ref.size, ref.note) == (2**63 - 1, None)


@pytest.mark.parametrize("created", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_creation_time_outside_the_calendar_is_junk(created: str) -> None:
    with pytest.raises(ValueError, match="creationTime is out of range"):
        InboundMessage.from_notification(envelope(created=created), "webhook")


@pytest.mark.parametrize(
    ("contact", "from_name"),
    [(None, "Zo\ufffd Smith"), (None, "Sam \ud800"), ("Zo\ud800", None), ("Zo\ufffd", "Dana Lee")],
)
def test_a_broken_name_is_not_used_to_greet(contact: str | None, from_name: str | None) -> None:
    """A name with a character that arrived broken (U+FFFD after intake; a lone surrogate from
    the address book) greets nobody: the reply is the one without a name, and it can be stored."""
    msg = InboundMessage.from_notification(envelope(sender_name=from_name), "webhook")
    decision = decide(facts_for(msg, datetime.now(UTC), contact_name=contact), vacation_rules())
    expected = "Hi, I'm away. Back soon." if from_name != "Dana Lee" else "Hi Dana, I'm away. Back soon."
    assert (decision.reason, decision.reply_text) == ("replied", expected)


async def test_the_store_says_store_error_for_a_value_it_cannot_bind(tmp_path: Path) -> None:
    """The backstop: a message that bypassed intake fails as a typed StoreError, not a raw
    UnicodeEncodeError from the driver."""
    msg = InboundMessage.from_notification(envelope(message_id="502"), "webhook")
    unstorable = InboundMessage(**{**msg.__dict__, "sender": Party("+14155550100", "Zo\udfff")})
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path}/rcinbox.db") as store:
        with pytest.raises(StoreError, match="cannot store a value: UnicodeEncodeError"):
            await store.accept(unstorable)


# --- property: whatever from_notification returns can be stored ------------------------------

ODD_TEXT = st.lists(
    st.text(max_size=5) | st.sampled_from(["\ud800", "\udfff", "\x00", "\ufffd", "x" * 300]), max_size=4
).map("".join)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**45), max_value=10**45)
    | st.floats(allow_nan=True, allow_infinity=True)
    | ODD_TEXT
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ODD_TEXT, inner, max_size=3),
    max_leaves=8,
)
PATHS = [
    ("body", "id"),
    ("body", "subject"),
    ("body", "from"),
    ("body", "from", "phoneNumber"),
    ("body", "from", "name"),
    ("body", "to"),
    ("body", "conversation", "id"),
    ("body", "creationTime"),
    ("body", "attachments"),
    ("body", "attachments", 1, "id"),
    ("body", "attachments", 1, "size"),
    ("body", "attachments", 1, "uri"),
    ("body", "attachments", 1, "contentType"),
    ("body", "owner", "extensionId"),
    ("timestamp",),
    ("event",),
]


def _with(changes: dict[int, Any]) -> dict[str, Any]:
    env = envelope(message_id="600", attachments=[{"id": "7", "type": "MmsAttachment", "uri": "https://m/x"}])
    for index, value in changes.items():
        *parents, last = PATHS[index]
        node: Any = env
        for key in parents:
            node = node[key] if isinstance(node, dict | list) and _has(node, key) else None
        if isinstance(node, dict) or (isinstance(node, list) and isinstance(last, int) and last < len(node)):
            node[last] = copy.deepcopy(value)
    return env


def _has(node: Any, key: Any) -> bool:
    return key in node if isinstance(node, dict) else isinstance(key, int) and key < len(node)


def _storable(text: str | None, limit: int) -> bool:
    """Fits a column of ``limit`` characters on SQLite and PostgreSQL (UTF-8, no NUL)."""
    if text is None:
        return True
    text.encode("utf-8")  # UnicodeEncodeError: a lone surrogate got through
    return len(text) <= limit and "\x00" not in text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.integers(0, len(PATHS) - 1), VALUES, max_size=4))
def test_whatever_is_parsed_can_be_stored(changes: dict[int, Any]) -> None:
    env = _with(changes)
    try:
        msg = InboundMessage.from_notification(env, "websocket")
    except ValueError:
        return  # junk: the malformed path (anything else fails the test)
    parties = [msg.sender, *msg.recipients]
    assert all(
        _storable(t, 64) for t in (msg.message_id, msg.extension_id, msg.account_id, msg.conversation_id)
    )
    assert all(_storable(p.phone_number, 64) and _storable(p.name, 255) for p in parties)
    assert _storable(msg.text, 10**6)
    for ref in msg.attachments:
        assert _storable(ref.id, 64) and _storable(ref.content_type, 255) and _storable(ref.uri, 10**6)
        assert ref.size is None or 0 <= ref.size < 2**63
    json.dumps(msg.raw, ensure_ascii=False, allow_nan=False).encode("utf-8")  # the raw column, strictly
    message_digest(msg.raw)  # the decision chain hashes it
    assert msg.created_at.tzinfo is not None
    again = InboundMessage.from_notification(msg.raw, "websocket")
    assert (again.text, again.sender, again.attachments, again.raw) == (
        msg.text,
        msg.sender,
        msg.attachments,
        msg.raw,
    )


# --- rcinbox messages: archived hostile text is shown as text ---------------------------------


async def _archive_texts(database: Path, texts: list[str]) -> None:
    async with await Store.open(f"sqlite+aiosqlite:///{database}") as store:
        for i, text in enumerate(texts):
            env = cli_envelope(f"80{i}", "+14155550100", "Zo\ud800 [b]", text, "2026-11-20T15:00:00.000Z")
            assert await store.accept(InboundMessage.from_notification(env, "webhook"))


def test_the_archive_table_shows_hostile_texts_as_they_are(tmp_path: Path) -> None:
    """Rich markup in a text neither stops ``rcinbox messages`` ("[/]") nor styles it ("[red]"),
    and a control character (an ESC that would drive the terminal) shows as U+FFFD."""
    (tmp_path / "data").mkdir()
    texts = ["Caf\ud800 [/] ok", "[red]not red[/red]", "a\x1b[2Jb"]
    asyncio.run(_archive_texts(tmp_path / "data" / "rcinbox.db", texts))
    result = cli_messages("--data-dir", str(tmp_path / "data"), "--env-file", os.devnull)
    assert result.exit_code == 0, result.output
    for shown in ("Caf\ufffd [/] ok", "[red]not red[/red]", "a\ufffd[2Jb", "Zo\ufffd [b]"):
        assert shown in result.output
    assert "\x1b" not in result.output
