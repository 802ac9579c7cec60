"""Hostile deliveries: notifications the emulator's own encoder can never produce, put on the
real wire to the running service the way RingCentral would.

The emulator serialises with orjson, which refuses lone UTF-16 surrogates and integers beyond 64
bits, and builds only sane envelopes; the platform's JSON may still carry a ``"\\ud800"`` escape,
a 41-digit size or an absurdly nested body. So the test writes the notification's JSON text
itself and hands it to the last hop the emulator owns:

- WebHook: POSTed to the subscription's address with its ``Verification-Token`` and the headers
  the emulator's deliverer sends (``rcinbox.emulator.push.webhooks``): the service's real HTTP server;
- WebSocket: framed as a ``ServerNotification`` with the gateway session's next ``wsc`` and queued
  on the emulator gateway's live connection to the service (``Connection.notify``, what
  ``Gateway.deliver`` does after encoding): the service's real WebSocket client reads it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
from e2e_kit import ALEX, ALEX_EXT, INSIDE, Live, TransportName

from rcinbox.emulator.model import Subscription

CREATED = INSIDE.strftime("%Y-%m-%dT%H:%M:%S.000Z")  # the service's "now": not too old


def instant(
    live: Live,
    message_id: Any,
    text: str,
    *,
    sender: str,
    name: str | None = None,
    conversation: Any = "1638233798595111162",
    attachments: Sequence[dict[str, Any]] = (),
    created: str = CREATED,
) -> dict[str, Any]:
    """An instant-SMS notification to Alex's number, shaped like the emulator's (PLATFORM §4.2)."""
    world = live.emu.world
    party: dict[str, Any] = {"phoneNumber": sender} | ({"name": name} if name is not None else {})
    return {
        "uuid": str(uuid.uuid4().int),
        "event": instant_event(live),
        "timestamp": created,
        "subscriptionId": _subscription(live, _kind(live)).id,
        "ownerId": ALEX_EXT,
        "body": {
            "id": message_id,
            "to": [{"phoneNumber": ALEX, "target": True}],
            "from": party,
            "type": "SMS",
            "creationTime": created,
            "lastModifiedTime": created,
            "attachments": [{"id": message_id, "type": "Text", "contentType": "text/plain"}, *attachments],
            "direction": "Inbound",
            "subject": text,
            "messageStatus": "Received",
            "conversation": {"id": conversation},
            "owner": {"extensionId": ALEX_EXT, "extensionType": "User"},
            "accountId": str(world.account_id),
        },
    }


def instant_event(live: Live) -> str:
    return f"{live.emu.world.account_path(int(ALEX_EXT))}/message-store/instant?type=SMS"


def wire(envelope: dict[str, Any]) -> str:
    """The JSON text on the wire: non-ASCII escaped, so a lone surrogate travels as ``\\ud800``."""
    return json.dumps(envelope, ensure_ascii=True)


async def deliver(live: Live, transport: TransportName, text: str) -> int | None:
    """Deliver the notification ``text``; the WebHook's HTTP status, ``None`` for the WebSocket."""
    subscription = _subscription(live, _kind(live))
    if transport == "webhook":
        assert subscription.address is not None
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "Verification-Token": subscription.verification_token or "",
        }
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(subscription.address, content=text.encode(), headers=headers)
        return response.status_code
    session = live.emu.emulator.gateway.sessions[subscription.ws_session_id or ""]
    assert session.connection is not None, "the service's WebSocket is not connected"
    meta = {
        "type": "ServerNotification",
        "messageId": str(uuid.uuid4()),
        "status": 200,
        "headers": {"RCRequestId": str(uuid.uuid4())},
        "wsc": session.next_wsc(),
    }
    session.connection.notify(f"[{json.dumps(meta)},{text}]")
    return None


def _kind(live: Live) -> str:
    return "WebHook" if live.service.settings.transport == "webhook" else "WebSocket"


def _subscription(live: Live, kind: str) -> Subscription:
    event = instant_event(live)
    [subscription] = [
        s
        for s in live.emu.world.subscriptions.values()
        if s.status == "Active" and s.transport == kind and event in s.event_filters
    ]
    return subscription
