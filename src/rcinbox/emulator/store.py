"""The emulator's message store: indexes over ``world.messages`` and the JSON shapes of a message.

:class:`Mailbox` (one per world, from :func:`mailbox`) keeps everything the messaging API looks up
on its hot paths, so no request scans all messages: message ids per extension in creation order,
a change log per extension (what message-sync's ISync returns), conversation ids, the owner of each
phone number, each extension's contacts by phone number, the outbound log behind
``GET /_emulator/outbound``, the asyncio tasks that move sent messages along, and the opt-outs:
like the platform, an inbound STOP (UNSUBSCRIBE, QUIT, CANCEL, END) blocks texts from that
number to the sender, which then fail with ``SendingFailed`` / ``SMS-RC-413``, until START
(SUBSCRIBE, RESUME, CONTINUE, UNSTOP).

:func:`message_json` renders a stored message as REST's ``GetMessageInfoResponse`` (int64 ids);
:func:`instant_body` renders it as the instant-message notification body (string ids, PLATFORM §4.2).
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from rcinbox.emulator.model import Contact, Extension, Message
from rcinbox.emulator.world import World, iso

CONVERSATION_BASE = 6_288_356_833_283_647_000  # conversation ids look like the platform's (int64)
# RingCentral's opt-out handling, per pair of numbers (DOCS messaging/sms/high-volume/opt-out)
OPT_OUT = frozenset({"STOP", "UNSUBSCRIBE", "QUIT", "CANCEL", "END"})
OPT_IN = frozenset({"START", "SUBSCRIBE", "RESUME", "CONTINUE", "UNSTOP"})

log = logging.getLogger("rcinbox.emulator")


@dataclass
class Mailbox:
    world: World
    by_extension: dict[int, list[int]] = field(default_factory=dict)
    changes: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # ext -> [(seq, message id)]
    conversations: dict[tuple[int, frozenset[str]], int] = field(default_factory=dict)
    outbound: list[Message] = field(default_factory=list)  # every message sent through /sms and /mms
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    opted_out: set[tuple[str, str]] = field(default_factory=set)  # (account number, who said STOP)
    delivery_errors: dict[int, str] = field(default_factory=dict)  # message id -> deliveryErrorCode
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _last_seq: int = 0
    _owners: dict[str, Extension] | None = None
    _contacts: dict[int, dict[str, Contact]] = field(default_factory=dict)

    # storing
    def add(self, message: Message) -> None:
        self.world.messages[message.id] = message
        self.by_extension.setdefault(message.extension_id, []).append(message.id)
        self.touch(message, modified=False)

    def touch(self, message: Message, modified: bool = True) -> None:
        """Record a change of ``message`` for message-sync (and bump lastModifiedTime)."""
        if modified:
            message.modified_at = self.world.now()
        self._last_seq = next(self._seq)
        self.changes.setdefault(message.extension_id, []).append((self._last_seq, message.id))

    @property
    def sequence(self) -> int:
        """The latest change number: what a sync token remembers."""
        return self._last_seq

    def changed_since(self, extension_id: int, seq: int) -> list[Message]:
        """Messages of an extension changed after change number ``seq``, oldest change first."""
        log = self.changes.get(extension_id, [])
        start = bisect.bisect_right(log, (seq, 1 << 62))
        seen: dict[int, Message] = {}
        for _, message_id in log[start:]:
            seen.pop(message_id, None)
            seen[message_id] = self.world.messages[message_id]
        return list(seen.values())

    def of_extension(self, extension_id: int) -> list[Message]:
        """An extension's messages, newest first."""
        messages = self.world.messages
        return [messages[i] for i in reversed(self.by_extension.get(extension_id, []))]

    # lookups
    def owner(self, phone_number: str) -> Extension | None:
        if self._owners is None:
            self._owners = {pn.phone_number: ext for ext in self.world.extensions for pn in ext.phone_numbers}
        return self._owners.get(phone_number)

    def contact(self, extension: Extension, phone_number: str) -> Contact | None:
        """The extension's live contact having ``phone_number`` in any of its phone fields."""
        index = self._contacts.get(extension.id)
        if index is None:
            index = {}
            for contact in extension.contacts:
                if contact.availability != "Alive":
                    continue
                for number in contact.phones.values():
                    index.setdefault(number, contact)
            self._contacts[extension.id] = index
        return index.get(phone_number)

    def opt(self, inbound_text: str, sender: str, numbers: Sequence[str]) -> None:
        """Carrier keywords: STOP & co. block texts from ``numbers`` to ``sender``; START & co. unblock."""
        word = inbound_text.strip().upper()
        for number in numbers:
            if word in OPT_OUT:
                self.opted_out.add((number, sender))
                log.info(
                    "OPT-OUT %s texted %s to %s: texts to it now fail (SMS-RC-413)", sender, word, number
                )
            elif word in OPT_IN:
                self.opted_out.discard((number, sender))
                log.info("OPT-IN %s texted %s to %s: texts to it are delivered again", sender, word, number)

    def blocked(self, message: Message) -> bool:
        return any((message.from_number, to) in self.opted_out for to in message.to_numbers)

    def contacts_changed(self, extension_id: int) -> None:
        self._contacts.pop(extension_id, None)

    def conversation_id(self, extension_id: int, numbers: frozenset[str]) -> int:
        key = (extension_id, numbers)
        found = self.conversations.get(key)
        if found is None:
            found = CONVERSATION_BASE + 7919 * len(self.conversations)
            self.conversations[key] = found
        return found

    # background work
    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` as a tracked task (kept referenced until done, cancelled by :meth:`close`)."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def mailbox(world: World) -> Mailbox:
    if world.mailbox is None:
        world.mailbox = Mailbox(world)
    return world.mailbox


def contact_name(contact: Contact) -> str:
    names = " ".join(part for part in (contact.first_name, contact.last_name) if part)
    return names or contact.company or ""


def party_name(world: World, owner: Extension, number: str) -> str | None:
    """How the platform names a party of ``owner``'s message: an extension, else a contact."""
    box = mailbox(world)
    ext = box.owner(number)
    if ext is not None:
        return ext.name
    contact = box.contact(owner, number)
    return (contact_name(contact) or None) if contact else None


def message_path(world: World, message: Message) -> str:
    return f"{world.account_path(message.extension_id)}/message-store/{message.id}"


def content_uri(world: World, message: Message, attachment_id: int) -> str:
    return world.url(f"{message_path(world, message)}/content/{attachment_id}")


def _party(world: World, owner: Extension, number: str, name: str | None = None) -> dict[str, Any]:
    party: dict[str, Any] = {"phoneNumber": number}
    name = name or party_name(world, owner, number)
    if name:
        party["name"] = name
    return party


def _attachments(world: World, message: Message, string_ids: bool, text_uri: bool) -> list[dict[str, Any]]:
    rendered: list[dict[str, Any]] = []
    for att in message.attachments:
        item: dict[str, Any] = {"id": str(att.id) if string_ids else att.id}
        if att.type != "Text" or text_uri:
            item["uri"] = content_uri(world, message, att.id)
        item["type"] = att.type
        item["contentType"] = att.content_type
        if att.type != "Text":
            item["size"] = len(att.content)
            if att.file_name:
                item["fileName"] = att.file_name
        rendered.append(item)
    return rendered


def _recipients(world: World, owner: Extension, message: Message) -> list[dict[str, Any]]:
    own = {pn.phone_number for pn in owner.phone_numbers}
    recipients = []
    for number in message.to_numbers:
        party = _party(world, owner, number)
        if message.direction == "Inbound":
            party["target"] = number in own
        recipients.append(party)
    return recipients


def message_json(world: World, message: Message) -> dict[str, Any]:
    """``GetMessageInfoResponse``: how the REST message store shows a message."""
    owner = world.extension(message.extension_id)
    body: dict[str, Any] = {
        "uri": world.url(message_path(world, message)),
        "id": message.id,
        "extensionId": str(message.extension_id),
        "to": _recipients(world, owner, message),
        "from": _party(world, owner, message.from_number, message.from_name),
        "type": message.type,
        "creationTime": iso(message.created_at),
        "readStatus": message.read_status,
        "priority": "Normal",
        "attachments": _attachments(world, message, string_ids=False, text_uri=True),
        "direction": message.direction,
        "availability": message.availability,
        "subject": message.text,
        "messageStatus": message.status,
        "conversationId": message.conversation_id,
        "conversation": {
            "id": str(message.conversation_id),
            "uri": world.url(f"/restapi/v1.0/conversation/{message.conversation_id}"),
        },
        "lastModifiedTime": iso(message.modified_at),
    }
    if message.direction == "Outbound":
        body["smsSendingAttemptsCount"] = 1
        if message.delivered_at is not None:
            body["smsDeliveryTime"] = iso(message.delivered_at)
        error = mailbox(world).delivery_errors.get(message.id)
        if error:
            body["deliveryErrorCode"] = error
    return body


def phone_number_info(number: str) -> dict[str, str] | None:
    """``phoneNumberInfo`` of a North American number, as in the 2025 instant-message capture."""
    if len(number) == 12 and number.startswith("+1"):
        return {"countryCode": "1", "nationalDestinationCode": number[2:5], "subscriberNumber": number[5:]}
    return None


def instant_body(world: World, message: Message) -> dict[str, Any]:
    """The instant-message notification body (PLATFORM §4.2): string ids, ``to[].target``."""
    owner = world.extension(message.extension_id)
    sender = _party(world, owner, message.from_number, message.from_name)
    info = phone_number_info(message.from_number)
    if info:
        sender["phoneNumberInfo"] = info
    return {
        "id": str(message.id),
        "to": _recipients(world, owner, message),
        "from": sender,
        "type": message.type,
        "creationTime": iso(message.created_at),
        "lastModifiedTime": iso(message.modified_at),
        "readStatus": message.read_status,
        "priority": "Normal",
        "attachments": _attachments(world, message, string_ids=True, text_uri=False),
        "direction": message.direction,
        "availability": message.availability,
        "subject": message.text,
        "messageStatus": message.status,
        "conversation": {"id": str(message.conversation_id)},
        "eventType": "Create",
        "owner": {"extensionId": str(owner.id), "extensionType": owner.type, "name": owner.name},
    }


def store_event_body(
    world: World, extension_id: int, new: Sequence[int] = (), updated: int = 0, kind: str = "SMS"
) -> dict[str, Any]:
    """The message-store change event body (PLATFORM §4.3, SPEC ``MessageEventBody``)."""
    change: dict[str, Any] = {"type": kind}
    if new:
        change["newCount"] = len(new)
    if updated:
        change["updatedCount"] = updated
    change["newMessageIds"] = list(new)
    return {
        "accountId": str(world.account_id),
        "extensionId": str(extension_id),
        "lastUpdated": iso(world.now()),
        "changes": [change],
        "ownerId": str(extension_id),
    }
