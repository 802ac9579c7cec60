"""Receive texts and answer each one, written the way RingCentral's developer guide does it
("Receiving SMS and MMS messages"), on the official Python SDK (``ringcentral``): log in with a
JWT, open one WebSocket subscription to the instant SMS event, and for every notification send a
reply from the number the text was sent to, to its sender.

A baseline for the benchmarks (bench/scenarios/reply_path.py), run in the SDK's own virtualenv
(``make sdk-deps``). Nothing here archives, deduplicates, checks consent or paces: that is the
point of comparison. Like the guide's sample, the reply is sent from the notification callback
with the SDK's synchronous ``platform.post``.

Env: RC_SERVER, RC_CLIENT_ID, RC_CLIENT_SECRET, RC_JWT, SAMPLE_REPLY (the reply's text).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from ringcentral import SDK
from ringcentral.websocket.events import WebSocketEvents

INSTANT_SMS = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"

rcsdk = SDK(os.environ["RC_CLIENT_ID"], os.environ["RC_CLIENT_SECRET"], os.environ["RC_SERVER"])
platform = rcsdk.platform()


def on_notification(message: list[dict[str, Any]]) -> None:
    body = message[1]["body"]
    platform.post(
        "/restapi/v1.0/account/~/extension/~/sms",
        {
            "from": {"phoneNumber": body["to"][0]["phoneNumber"]},
            "to": [{"phoneNumber": body["from"]["phoneNumber"]}],
            "text": os.environ["SAMPLE_REPLY"],
        },
    )
    print("replied to", body["from"]["phoneNumber"], flush=True)


async def main() -> None:
    platform.login(jwt=os.environ["RC_JWT"])
    client = rcsdk.create_web_socket_client()
    connected = asyncio.Event()
    client.on(WebSocketEvents.connectionCreated, lambda _client: connected.set())
    client.on(WebSocketEvents.receiveSubscriptionNotification, on_notification)
    connection = asyncio.create_task(client.create_new_connection())
    await connected.wait()
    await client.create_subscription([INSTANT_SMS])
    await connection


if __name__ == "__main__":
    asyncio.run(main())
