"""Typed rows the store hands out and takes in (frozen dataclasses; no SQLAlchemy types leak)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from rcinbox.events import Source

MessageState = Literal["received", "archived", "decided", "done", "failed"]
PENDING_STATES: tuple[MessageState, ...] = ("received", "archived")
AttachmentState = Literal["stored", "refused"]
OutboxState = Literal["queued", "sending", "sent", "failed", "unknown"]
OptState = Literal["opted_out", "opted_in"]
Action = Literal["reply", "suppress", "opt-out", "opt-in"]


@dataclass(frozen=True)
class StoredMessage:
    pk: int
    extension_id: str
    message_id: str
    sender: str
    text: str
    source: Source
    raw: Mapping[str, Any] = field(repr=False)
    state: MessageState
    attempts: int
    last_error: str | None
    received_at: datetime
    before_first_start: bool = False  # sent before rcinbox first started (found by the first catch-up)


@dataclass(frozen=True)
class AttachmentRecord:
    message_pk: int
    attachment_id: str
    content_type: str
    uri: str
    state: AttachmentState
    size: int | None = None
    sha256: str | None = None
    path: str | None = None  # relative to DATA_DIR
    reason: str | None = None


@dataclass(frozen=True)
class DecisionRecord:
    """What was decided about one message, and on which facts (JSON-ready)."""

    action: Action
    reason: str
    handle: str
    facts: Mapping[str, Any] = field(repr=False)
    reply_text: str | None = None
    reply_from: str | None = None
    reply_to: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class OutboxRow:
    id: int
    message_pk: int
    extension_id: str
    from_number: str
    to_number: str
    text: str = field(repr=False)
    handle: str
    state: OutboxState
    attempts: int
    claimed_at: datetime | None
    platform_message_id: str | None
    last_error: str | None
    queued_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class ArchiveEntry:
    """One archived message with its decision, for ``rcinbox messages`` and the dashboard."""

    pk: int
    extension_id: str
    message_id: str
    sender: str
    sender_name: str | None
    receiving_number: str | None
    text: str
    created_at: datetime
    state: MessageState
    action: Action | None
    reason: str | None
    reply_state: OutboxState | None
    attachments: int
    last_error: str | None
    reply_error: str | None = None  # why the reply failed (``expired: …``, ``opted-out: …``) or is unknown
    reply_text: str | None = None  # the reply as sent (only once it was)
    files: tuple[AttachmentRecord, ...] = ()  # every attachment's outcome, stored or refused
