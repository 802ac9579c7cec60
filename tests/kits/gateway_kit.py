"""Helpers of the WebSocket gateway tests: a logged-in user opening real gateway connections
(``websockets``), frames sent and received with a timeout, and notifications published directly."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from rcinbox.emulator.push import events
from rcinbox.emulator.push.connection import Connection
from rcinbox.emulator.runner import Running

INSTANT = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"


class Client:
    """One logged-in user: fetches ws tokens and opens gateway connections."""

    def __init__(self, http: httpx.AsyncClient, emu: Running, token: dict[str, Any]) -> None:
        self.http, self.emu, self.token = http, emu, token

    async def url(self, wsc: str | None = None) -> str:
        response = await self.http.post(
            "/restapi/oauth/wstoken", headers={"Authorization": f"Bearer {self.token['access_token']}"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        url = f"{body['uri']}?access_token={body['ws_access_token']}"
        return url if wsc is None else f"{url}&wsc={wsc}"

    async def open(self, wsc: str | None = None, **options: Any) -> tuple[ClientConnection, list[Any]]:
        ws = await connect(await self.url(wsc), **options)
        details = await receive(ws)
        assert details[0]["type"] == "ConnectionDetails", details
        return ws, details


async def receive(ws: ClientConnection) -> list[Any]:
    frame: list[Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
    return frame


async def request(ws: ClientConnection, message_id: str, method: str, path: str, *body: Any) -> list[Any]:
    await ws.send(
        json.dumps(
            [{"type": "ClientRequest", "messageId": message_id, "method": method, "path": path}, *body]
        )
    )
    return await receive(ws)


async def subscribe(ws: ClientConnection, message_id: str = "sub-1") -> dict[str, Any]:
    frame = await request(
        ws,
        message_id,
        "POST",
        "/restapi/v1.0/subscription/",
        {"eventFilters": [INSTANT], "deliveryMode": {"transportType": "WebSocket"}},
    )
    assert frame[0]["status"] == 200, frame
    info: dict[str, Any] = frame[1]
    return info


def publish(emu: Running, n: int) -> int:
    ext = emu.world.extensions[0].id
    event = f"/restapi/v1.0/account/{emu.world.account_id}/extension/{ext}/message-store/instant?type=SMS"
    return events.publish(emu.world, ext, event, {"id": str(n)})


async def closed_code(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), timeout=5)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def leave(emu: Running, ws: ClientConnection) -> None:
    """Close the client side and wait until the gateway has detached the connection."""
    (connection,) = emu.world.connections
    assert isinstance(connection, Connection)
    await ws.close()
    await asyncio.wait_for(connection.closed.wait(), timeout=5)
    assert not emu.world.connections
