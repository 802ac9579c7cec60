"""Typed rows the store hands out and takes in (frozen dataclasses; no SQLAlchemy types leak)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from rcinbox.events import AttachmentRef, InboundMessage, Party, Source

MessageState = Literal["received", "archived", "decided", "done", "failed"]
PENDING_STATES: tuple[MessageState, ...] = ("received", "archived")
AttachmentState = Literal["pending", "stored", "refused", "failed"]  # pending: downloading
OutboxState = Literal["queued", "sending", "sent", "failed", "unknown"]
OptState = Literal["opted_out", "opted_in"]
OutboxKind = Literal["reply", "escalation"]
Action = Literal["reply", "suppress", "opt-out", "opt-in"]
T = TypeVar("T")


@dataclass(frozen=True)
class StoredMessage:
    """An archived message as its columns hold it; ``raw`` is the envelope, for the archive only
    (the decision chain hashes it): the worker's :class:`InboundMessage` comes from the columns."""

    pk: int
    extension_id: str
    message_id: str
    account_id: str
    sender: str
    sender_name: str | None
    recipients: tuple[Party, ...]
    text: str
    conversation_id: str | None
    created_at: datetime
    handed_over_at: datetime | None
    announced: tuple[AttachmentRef, ...]  # the attachments as announced at intake
    source: Source
    raw: Mapping[str, Any] = field(repr=False)
    state: MessageState
    attempts: int
    last_error: str | None
    received_at: datetime
    before_first_start: bool = False  # sent before rcinbox first started (found by the first catch-up)

    def inbound(self) -> InboundMessage:
        """The message as parsed at intake, rebuilt from the columns (``raw`` is not read)."""
        return InboundMessage(
            message_id=self.message_id,
            extension_id=self.extension_id,
            account_id=self.account_id,
            sender=Party(self.sender, self.sender_name),
            recipients=self.recipients,
            text=self.text,
            attachments=self.announced,
            conversation_id=self.conversation_id,
            created_at=self.created_at,
            raw=self.raw,
            source=self.source,
            before_first_start=self.before_first_start,
            handed_over_at=self.handed_over_at,
        )


def announced_json(refs: tuple[AttachmentRef, ...]) -> list[dict[str, Any]]:
    """``messages.announced``: the attachment refs parsed at intake, in order."""
    return [
        {
            "id": ref.id,
            "uri": ref.uri,
            "contentType": ref.content_type,
            "size": ref.size,
            "problem": ref.problem,
            "note": ref.note,
        }
        for ref in refs
    ]


def announced_refs(value: Sequence[Mapping[str, Any]]) -> tuple[AttachmentRef, ...]:
    """The refs :func:`announced_json` wrote (migration 0003 writes the same shape)."""
    return tuple(
        AttachmentRef(
            id=item["id"],
            uri=item["uri"],
            content_type=item["contentType"],
            size=item["size"],
            problem=item["problem"],
            note=item["note"],
        )
        for item in value
    )


def recipients_json(parties: tuple[Party, ...]) -> list[dict[str, Any]]:
    """``messages.recipients``: the ``to`` list as parsed at intake."""
    return [{"phoneNumber": p.phone_number, "name": p.name, "target": p.target} for p in parties]


def recipients_parties(value: Sequence[Mapping[str, Any]]) -> tuple[Party, ...]:
    return tuple(Party(item["phoneNumber"], item.get("name"), item.get("target") is True) for item in value)


@dataclass(frozen=True)
class AttachmentRecord:
    message_pk: int
    attachment_id: str
    content_type: str
    uri: str
    state: AttachmentState
    size: int | None = None
    sha256: str | None = None
    path: str | None = None  # relative to DATA_DIR; NULL when stored in the database
    reason: str | None = None
    last_error: str | None = None  # pending: why the last attempt failed (it is retried)

    @property
    def storage(self) -> Literal["files", "database"] | None:
        """Where a stored attachment's bytes are: a file (``path``), or the database's
        ``attachment_bodies`` row of its ``sha256``; ``None`` when it is not stored."""
        if self.state != "stored":
            return None
        if self.path:
            return "files"
        return "database" if self.sha256 else None


@dataclass(frozen=True)
class PendingDownload:
    """An attachment whose download is queued (``attachments`` row in state ``pending``)."""

    id: int  # the attachments row
    message_pk: int
    extension_id: str
    message_id: str
    ref: AttachmentRef  # as announced (its ``note`` kept in the row's ``reason``)
    attempts: int


@dataclass(frozen=True)
class EscalationRecord:
    """An escalation to queue with the decision: a second outbox row (``kind`` escalation)."""

    text: str = field(repr=False)
    from_number: str
    to_number: str
    handle: str
    about: str  # the sender it is about (stored as its same_key)


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
    intent: str | None = None  # smart replies: the chosen intent (None: not classified)
    confidence: float | None = None
    backend: str | None = None
    reply_kind: str | None = None  # "vacation" or an intent's reply
    escalation: EscalationRecord | None = None
    opt_confidence: float | None = None  # an opt-out the classifier recognised (None: a keyword)


@dataclass(frozen=True)
class SenderHistory:
    """The automated texts that concern one sender, for the repeat and escalation rules."""

    last_replies: Mapping[str, datetime]  # per handle: the last reply to the sender
    escalated_at: datetime | None  # the last escalation about the sender


@dataclass(frozen=True)
class DecisionFacts:
    """What the store knows for one decision (:meth:`Store.decision_facts`), read at one moment."""

    opted_out: bool  # the sender's latest STOP/START was a STOP
    history: SenderHistory
    replied_to_message: bool  # this message already has a reply in the outbox
    automated_count: int  # automated texts to the sender (any handle, escalations too) since ``since``


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
    kind: OutboxKind = "reply"
    about: str | None = None  # an escalation: the sender it is about


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
    intent: str | None = None  # smart replies: what the classifier understood (None: not classified)
    confidence: float | None = None
    backend: str | None = None
    reply_kind: str | None = None
    escalation_to: str | None = None  # an escalation was queued to this number
    escalation_state: OutboxState | None = None


# -- the archive's rows as records (rcinbox.store.archive and rcinbox.store.archive_file) -----


def attachment(row: Any) -> AttachmentRecord:
    return AttachmentRecord(**{name: row[name] for name in AttachmentRecord.__dataclass_fields__})


def archive_entry(row: Any, files: tuple[AttachmentRecord, ...]) -> ArchiveEntry:
    failed = row["reply_state"] in ("failed", "unknown")
    return ArchiveEntry(
        pk=row["id"],
        extension_id=row["extension_id"],
        message_id=row["message_id"],
        sender=row["sender"],
        sender_name=row["sender_name"],
        receiving_number=row["receiving_number"],
        text=row["text"],
        created_at=row["created_at"],
        state=row["state"],
        action=row["action"],
        reason=row["reason"],
        reply_state=row["reply_state"],
        attachments=int(row["attachment_count"] or 0),
        last_error=row["last_error"],
        reply_error=row["reply_error"] if failed else None,
        reply_text=row["reply_text"] if row["reply_state"] == "sent" else None,
        files=files,
        intent=row["intent"],
        confidence=row["confidence"],
        backend=row["backend"],
        reply_kind=row["reply_kind"],
        escalation_to=row["escalation_to"],
        escalation_state=row["escalation_state"],
    )


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list the dashboard shows (``number`` from 1), read in one statement;
    ``has_more``: a next page exists (the statement read one row beyond this page)."""

    items: tuple[T, ...]
    number: int
    size: int
    has_more: bool

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def page_window(number: int, size: int) -> tuple[int, int]:
    """``LIMIT`` and ``OFFSET`` for page ``number``: one row more than the page, to tell ``has_more``."""
    if number < 1 or size < 1:
        raise ValueError(f"page {number} of size {size}: both count from 1")
    return size + 1, (number - 1) * size


def paged(rows: Sequence[T], number: int, size: int) -> Page[T]:
    return Page(tuple(rows[:size]), number, size, len(rows) > size)
