"""Instant-SMS notifications as RingCentral sends them (PLATFORM §4.1–4.2, the emulator's
``rcinbox.emulator.render.instant_body`` and ``push.events.envelope``), for the emulated account:
what the webhook benchmark posts, and what the footprint benchmark's 100,000-message archive holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import orjson

# The event is posted as the platform's Java client posts it (PLATFORM §2.5).
WEBHOOK_HEADERS = {
    "Content-Type": "application/json; charset=UTF-8",
    "Accept": "application/json",
    "Accept-Encoding": "UTF-8",
    "User-Agent": "RingCentral-Webhook/8.3",
}


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(
    state: Mapping[str, Any],
    subscription_id: str,
    *,
    message_id: str,
    uuid: str,
    sender: str,
    text: str,
    at: dt.datetime,
) -> dict[str, Any]:
    """The notification of one inbound SMS to the first extension's first number."""
    account = state["account"]["id"]
    owner = state["extensions"][0]
    number = owner["phoneNumbers"][0]
    stamp = iso(at)
    return {
        "uuid": uuid,
        "event": f"/restapi/v1.0/account/{account}/extension/{owner['id']}/message-store/instant?type=SMS",
        "timestamp": stamp,
        "subscriptionId": subscription_id,
        "ownerId": str(owner["id"]),
        "body": {
            "id": message_id,
            "to": [{"phoneNumber": number, "name": owner["name"], "target": True}],
            "from": {
                "phoneNumber": sender,
                "phoneNumberInfo": {
                    "countryCode": "1",
                    "nationalDestinationCode": sender[2:5],
                    "subscriberNumber": sender[5:],
                },
            },
            "type": "SMS",
            "creationTime": stamp,
            "lastModifiedTime": stamp,
            "readStatus": "Unread",
            "priority": "Normal",
            "attachments": [{"id": message_id, "type": "Text", "contentType": "text/plain"}],
            "direction": "Inbound",
            "availability": "Alive",
            "subject": text,
            "messageStatus": "Received",
            "conversation": {"id": f"9{message_id}"},
            "eventType": "Create",
            "owner": {"extensionId": str(owner["id"]), "extensionType": "User", "name": owner["name"]},
        },
    }


def template(state: Mapping[str, Any], subscription_id: str, at: dt.datetime) -> str:
    """The notification as a body template for the load generator: ``__N__`` (a number unique to
    each request) makes its message id, uuid and conversation id; ``__K__`` (four digits cycling
    through 9,000 values) its sender, so the texts come from many numbers, none a contact."""
    one = envelope(
        state,
        subscription_id,
        message_id="7__N__",
        uuid="1__N__",
        sender="+1415555__K__",
        text="Hi, is the shop open on Saturday? I'd like to pick up my order.",
        at=at,
    )
    return orjson.dumps(one).decode()
