"""The one inbound event type: :class:`InboundMessage`, built from an instant-SMS notification.

Every transport (WebSocket, WebHook, message-sync catch-up) turns what it received into an
``InboundMessage`` with :meth:`InboundMessage.from_notification` and hands it to the pipeline.
Parsing is strict about what rcinbox needs to store a message (its id, owner, creation time):
junk raises ``ValueError`` with a reason (never ``KeyError``/``TypeError``). It is lenient about
the rest, so such a message is still archived and decided, never dropped: a missing or empty
sender number becomes ``Party("")`` (decided ``invalid-sender``), a missing ``to`` list no
recipient and an unreadable ``to`` entry ``Party("")`` (decided ``no-receiving-number``, or
``group-message`` among others), a malformed attachment entry an :class:`AttachmentRef` with a
``problem`` (recorded ``refused``). Unknown fields
are ignored and the whole envelope is kept in ``raw`` for the archive. Ids are strings (notifications send
strings, REST sends int64 numbers; both are accepted).

Hostile input is made storable here, once, for every transport (:mod:`rcinbox.payload`): lone
UTF-16 surrogates and NUL in any string become U+FFFD (the text, the sender, the name, the
conversation id and ``raw`` are stored so), and ``raw`` then also carries the envelope as received
under :data:`ORIGINAL` (ASCII JSON text: a lone surrogate kept as its ``\\ud800`` escape). Values
out of range never reach a column: a number or name longer than its column is unreadable (a
number) or cut (a name), a conversation id that is not a plain id of at most 64 characters is
``None``, an attachment's declared size beyond 64 bits is unknown (``None``, with a ``note``), an
attachment id over 64 characters is replaced by its position (``#2``, with a ``note``), a time
outside the calendar is junk. ``from_notification`` raises nothing but ``ValueError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from rcinbox.payload import original_text, storable
from rcinbox.timestamps import maybe_time, parse_time

Source = Literal["webhook", "websocket", "sync"]
ORIGINAL = "rcinboxOriginal"  # in ``raw`` when it had to be cleaned: the envelope as received
SOURCES: tuple[Source, ...] = ("webhook", "websocket", "sync")

# Ids end up in file paths and SQL keys: only plain tokens are accepted.
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_EVENT_IDS = re.compile(r"/account/([^/?]+)/extension/([^/?]+)/")
MAX_NUMBER = 64  # characters of a phone number, short code or sender id (the store's column)
MAX_NAME = 255  # characters of a sender's name kept in its column (the whole one stays in raw)
MAX_ATTACHMENT_ID = 64
MAX_CONTENT_TYPE = 255
MAX_SIZE = 2**63 - 1  # a declared attachment size beyond this is not a size


@dataclass(frozen=True)
class Party:
    """One side of a message: an E.164 number (or a short code / alphanumeric sender id)."""

    phone_number: str
    name: str | None = None
    target: bool = False


@dataclass(frozen=True)
class AttachmentRef:
    """An MMS attachment as announced in the notification; the bytes are fetched later."""

    id: str
    uri: str
    content_type: str
    size: int | None
    type: str = "MmsAttachment"
    problem: str | None = None  # a malformed entry: recorded as refused with this reason, never fetched
    note: str | None = None  # an odd but harmless announcement (a size out of range), recorded


@dataclass(frozen=True)
class InboundMessage:
    message_id: str
    extension_id: str
    account_id: str
    sender: Party
    recipients: tuple[Party, ...]
    text: str
    attachments: tuple[AttachmentRef, ...]
    conversation_id: str | None
    created_at: datetime
    raw: Mapping[str, Any]
    source: Source
    # Found by the very first catch-up and sent before rcinbox first started: archived, never
    # answered (a human may have dealt with it already). Set by the catch-up, stored in its own
    # column (``messages.before_first_start``), never read from the envelope.
    before_first_start: bool = False
    # When the platform handed the text over: the envelope's ``timestamp`` (the notification's;
    # the sync's ``syncTime`` for a catch-up), ``None`` when it has no readable one. Stored in its
    # own column (``messages.handed_over_at``) so the worker never re-reads ``raw``.
    handed_over_at: datetime | None = None

    def __repr__(self) -> str:
        return (
            f"InboundMessage(ext={self.extension_id}, id={self.message_id}, "
            f"from={self.sender.phone_number}, source={self.source})"
        )

    @property
    def receiving_number(self) -> str | None:
        """The owner's number the message was sent to: the ``to`` entry with ``target: true``,
        else the only recipient, else ``None`` (ambiguous)."""
        targets = [party for party in self.recipients if party.target]
        if len(targets) == 1:
            return targets[0].phone_number or None
        if len(self.recipients) == 1:
            return self.recipients[0].phone_number or None
        return None

    @classmethod
    def from_notification(cls, envelope: Mapping[str, Any], source: Source) -> InboundMessage:
        """Parse an instant-SMS notification envelope (PLATFORM.md §4.2); ``ValueError`` on junk."""
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        if not isinstance(envelope, Mapping):
            raise ValueError("notification is not a JSON object")
        try:
            return cls._parse(_storable_envelope(envelope), source)
        except (RecursionError, OverflowError) as exc:  # belt and braces: junk is a ValueError
            raise ValueError(f"unreadable notification ({type(exc).__name__})") from None

    @classmethod
    def _parse(cls, envelope: Mapping[str, Any], source: Source) -> InboundMessage:
        body = _mapping(envelope.get("body"), "body")
        if body.get("direction", "Inbound") != "Inbound":
            raise ValueError(f"not an inbound message (direction {body.get('direction')!r})")
        if body.get("type", "SMS") not in ("SMS", "Pager"):
            raise ValueError(f"not a text message (type {body.get('type')!r})")
        account_id, extension_id = _owner(envelope, body)
        return cls(
            message_id=_token(body.get("id"), "body.id"),
            extension_id=extension_id,
            account_id=account_id,
            sender=_sender(body.get("from")),
            recipients=_recipients(body.get("to")),
            text=_text(body.get("subject")),
            attachments=_attachments(body.get("attachments")),
            conversation_id=_conversation(body),
            created_at=_timestamp(body.get("creationTime"), "body.creationTime"),
            raw=envelope,
            source=source,
            handed_over_at=maybe_time(envelope.get("timestamp")),
        )

    @property
    def age(self) -> timedelta | None:
        """How old the text was when the platform handed it over: :attr:`handed_over_at` minus
        ``creationTime``, both on the platform's clock; ``None`` without a handed-over time."""
        if self.handed_over_at is None:
            return None
        return max(self.handed_over_at - self.created_at, timedelta(0))

    @classmethod
    def from_record(
        cls,
        record: Mapping[str, Any],
        extension_id: str,
        account_id: str = "",
        *,
        timestamp: str | None = None,
        before_first_start: bool = False,
    ) -> InboundMessage:
        """Parse a message-store / message-sync record (REST shape, int64 ids) fetched for
        ``extension_id`` during a catch-up; ``raw`` is a synthetic envelope around it, whose
        ``timestamp`` is when the platform listed it (the sync's ``syncTime``), if given."""
        body: dict[str, Any] = {**record, "owner": {"extensionId": extension_id}}
        if account_id:
            body["accountId"] = account_id
        envelope: dict[str, Any] = {"ownerId": extension_id, "body": body}
        if timestamp is not None:
            envelope["timestamp"] = timestamp
        return replace(cls.from_notification(envelope, "sync"), before_first_start=before_first_start)


def _storable_envelope(envelope: Mapping[str, Any]) -> Mapping[str, Any]:
    """``envelope`` with unstorable characters replaced, plus the original under :data:`ORIGINAL`
    when anything had to change; ``envelope`` itself otherwise."""
    cleaned, changed = storable(dict(envelope))
    if not changed:
        return envelope
    return {**cleaned, ORIGINAL: original_text(dict(envelope))}


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} is missing or not an object")
    return value


def _token(value: object, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{where} is missing or not a string/number")
    text = str(value)
    if not _ID.fullmatch(text):
        raise ValueError(f"{where} is not a plain id: {text[:40]!r}")
    return text


def _owner(envelope: Mapping[str, Any], body: Mapping[str, Any]) -> tuple[str, str]:
    """(account id, extension id): from the ``event`` path, else ``body.owner`` / ``ownerId``.

    The account id is ``""`` when the notification does not say (it is informational only).
    """
    event = envelope.get("event")
    match = _EVENT_IDS.search(event) if isinstance(event, str) else None
    if match:
        return _token(match.group(1), "event account id"), _token(match.group(2), "event extension id")
    owner = body.get("owner")
    ext = owner.get("extensionId") if isinstance(owner, Mapping) else None
    if ext is None:
        ext = envelope.get("ownerId")
    account = body.get("accountId")
    return (_token(account, "body.accountId") if account is not None else ""), _token(
        ext, "owner extension id"
    )


def _party(value: object, where: str) -> Party:
    item = _mapping(value, where)
    number = item.get("phoneNumber")
    if not isinstance(number, str) or not number.strip():
        raise ValueError(f"{where}.phoneNumber is missing or not a string")
    if len(number.strip()) > MAX_NUMBER:
        raise ValueError(f"{where}.phoneNumber is longer than {MAX_NUMBER} characters")
    return Party(phone_number=number.strip(), name=_name(item.get("name")), target=item.get("target") is True)


def _name(value: object) -> str | None:
    return value[:MAX_NAME] if isinstance(value, str) and value.strip() else None


def _sender(value: object) -> Party:
    """``body.from``; a missing, empty or odd number (anonymous, hidden) is ``Party("")``."""
    try:
        return _party(value, "body.from")
    except ValueError:
        return Party("", name=_name(value.get("name")) if isinstance(value, Mapping) else None)


def _recipients(value: object) -> tuple[Party, ...]:
    """``body.to``, leniently: a text is archived (and decided ``no-receiving-number``) even when
    the platform does not say which number it went to. An unreadable entry stays as ``Party("")``
    so that it still counts as a recipient (a group text must never look like a one-to-one)."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    return tuple(_recipient(item, f"body.to[{i}]") for i, item in enumerate(value))


def _recipient(value: object, where: str) -> Party:
    try:
        return _party(value, where)
    except ValueError:
        return Party("")


def _text(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("body.subject is not a string")
    return value


def _attachments(value: object) -> tuple[AttachmentRef, ...]:
    if value is None:
        return ()
    if not isinstance(value, Sequence) or isinstance(value, str):
        return (_malformed("#0", "body.attachments is not a list"),)
    refs: list[AttachmentRef] = []
    for i, item in enumerate(value):
        where = f"body.attachments[{i}]"
        if not isinstance(item, Mapping):
            refs.append(_malformed(f"#{i}", f"{where} is not an object"))
        elif item.get("type") == "MmsAttachment":
            try:
                refs.append(_attachment(item, where, i))
            except ValueError as exc:
                refs.append(_malformed(_plain_id(item.get("id"), i), str(exc)))
    return tuple(refs)


def _malformed(att_id: str, problem: str) -> AttachmentRef:
    return AttachmentRef(
        id=att_id, uri="", content_type="application/octet-stream", size=None, problem=problem
    )


def _plain_id(value: object, index: int) -> str:
    """The entry's id when usable, else its position (``#2``): the archive keys outcomes by id."""
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return text if 0 < len(text) <= MAX_ATTACHMENT_ID else f"#{index}"


def _attachment(entry: Mapping[str, Any], where: str, index: int) -> AttachmentRef:
    uri, content_type, size = entry.get("uri"), entry.get("contentType"), entry.get("size")
    if not isinstance(uri, str) or not uri:
        raise ValueError(f"{where}.uri is missing or not a string")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise ValueError(f"{where}.size is not a non-negative integer")
    # The id is kept as given (it is data); attachments.py never uses it verbatim as a file name.
    att_id = entry.get("id")
    if isinstance(att_id, bool) or not isinstance(att_id, str | int) or str(att_id) == "":
        raise ValueError(f"{where}.id is missing or not a string/number")
    notes = []
    if size is not None and size > MAX_SIZE:
        notes.append(f"declared size {_digits(size)} is out of range: treated as unknown")
        size = None
    if len(str(att_id)) > MAX_ATTACHMENT_ID:
        notes.append(f"id longer than {MAX_ATTACHMENT_ID} characters: kept as #{index}")
    if not isinstance(content_type, str) or not content_type or len(content_type) > MAX_CONTENT_TYPE:
        content_type = "application/octet-stream"
    return AttachmentRef(
        id=_plain_id(att_id, index),
        uri=uri,
        content_type=content_type,
        size=size,
        note="; ".join(notes) or None,
    )


def _digits(number: int) -> str:
    """A huge number, readably: ``10000000000000000000000000000000000000000`` → ``1000000000…(41 digits)``."""
    text = str(number)
    return text if len(text) <= 24 else f"{text[:10]}…({len(text)} digits)"


def _conversation(body: Mapping[str, Any]) -> str | None:
    conversation = body.get("conversation")
    value = conversation.get("id") if isinstance(conversation, Mapping) else None
    if value is None:
        value = body.get("conversationId")
    if value is None or isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    return text if _ID.fullmatch(text) else None  # not a plain id (or too long): only in raw


def _timestamp(value: object, where: str) -> datetime:
    return parse_time(value, where)
