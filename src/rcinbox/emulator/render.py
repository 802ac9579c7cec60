"""The JSON shapes of a stored message, as REST and the notifications show it.

:func:`message_json` renders a stored message as REST's ``GetMessageInfoResponse`` (int64 ids);
:func:`instant_body` renders it as the instant-message notification body (string ids, PLATFORM §4.2);
:func:`store_event_body` is the message-store change event (PLATFORM §4.3). Names of the parties come
from the message store's indexes (``world.mailbox``): an extension of the account, else a contact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rcinbox.emulator.model import Contact, Extension, Message
from rcinbox.emulator.world import World, iso


def contact_name(contact: Contact) -> str:
    names = " ".join(part for part in (contact.first_name, contact.last_name) if part)
    return names or contact.company or ""


def party_name(world: World, owner: Extension, number: str) -> str | None:
    """How the platform names a party of ``owner``'s message: an extension, else a contact."""
    box = world.mailbox
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
        error = world.mailbox.delivery_errors.get(message.id)
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
