"""The official Python SDK's WebSocket subscription (``ringcentral==0.9.2``) against a server.

The SDK recognises a created subscription only when the ClientRequest answer carries the 2021
header ``WSG-SubscriptionId`` (PLATFORM.md §8.1, PY#92); today's platform no longer sends it, so
``subscriptionCreated`` never fires, while notifications still arrive. This script shows which
of the two a server does. Env: RC_SERVER, RC_CLIENT_ID, RC_CLIENT_SECRET, RC_JWT.

Prints JSON lines:
  {"step": "ready", "status", "headers", "subscriptionCreatedFired"}  the subscription was answered
  {"step": "notification", "event"}                                   [meta, body] as the SDK gives it
then exits 0; on failure {"step": "error", "message"} and exit code 1.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from typing import Any

from ringcentral import SDK
from ringcentral.websocket.events import WebSocketEvents

INSTANT = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"
TIMEOUT = 20.0


def emit(**line: Any) -> None:
    print(json.dumps(line), flush=True)


async def main() -> None:
    env = os.environ
    sdk = SDK(env["RC_CLIENT_ID"], env["RC_CLIENT_SECRET"], env["RC_SERVER"])
    sdk.platform().login(jwt=env["RC_JWT"])
    client = sdk.create_web_socket_client()
    connected = asyncio.Event()
    created = asyncio.Event()
    notifications: asyncio.Queue[Any] = asyncio.Queue()
    client.on(WebSocketEvents.connectionCreated, lambda _client: connected.set())
    client.on(WebSocketEvents.subscriptionCreated, lambda _subscription: created.set())
    client.on(WebSocketEvents.receiveSubscriptionNotification, notifications.put_nowait)

    loop = asyncio.get_running_loop()

    def report(meta: dict[str, Any]) -> None:
        emit(
            step="ready",
            status=meta.get("status"),
            headers=meta.get("headers", {}),
            subscriptionCreatedFired=created.is_set(),
        )

    def answered(raw: str) -> None:
        meta = json.loads(raw)[0]
        if meta.get("type") == "ClientRequest":
            # Report once every handler of this frame (the SDK's own included) has run.
            loop.call_soon(report, meta)

    client.on(WebSocketEvents.receiveMessage, answered)  # before the request: no answer can be missed
    receiving = asyncio.create_task(client.create_new_connection())  # the SDK's endless recv loop
    await asyncio.wait_for(connected.wait(), TIMEOUT)
    await client.create_subscription([INSTANT])
    event = await asyncio.wait_for(notifications.get(), TIMEOUT)
    emit(step="notification", event=event)
    receiving.cancel()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as exc:  # report to the harness, never a token
        emit(step="error", message=re.sub(r"(?i)(bearer|basic)\s+[\w.~+/=-]+", r"\1 ***", repr(exc)))
        sys.exit(1)
