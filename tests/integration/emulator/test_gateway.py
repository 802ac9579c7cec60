"""The WebSocket gateway with a real client (``websockets``): ConnectionDetails, ClientRequest
(subscriptions and plain REST), Error frames, Heartbeat, timeouts, notifications. Session recovery
is in ``test_gateway_recovery.py``."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from emu_clocks import FakeClock
from gateway_kit import INSTANT, Client, closed_code, publish, receive, request, subscribe
from support import login
from websockets.asyncio.client import ClientConnection, connect

from rcinbox.emulator.runner import Running

WSG_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


@pytest.fixture
async def client(http: httpx.AsyncClient, emu: Running) -> Client:
    return Client(http, emu, await login(http, emu))


@pytest.fixture
async def opened(client: Client) -> AsyncIterator[tuple[ClientConnection, list[Any]]]:
    ws, details = await client.open()
    async with ws:
        yield ws, details


async def test_connection_details_first(emu: Running, opened: tuple[ClientConnection, list[Any]]) -> None:
    _, (meta, body) = opened
    assert meta["type"] == "ConnectionDetails" and meta["status"] == 200
    assert meta["wsc"]["sequence"] == 1 and isinstance(meta["wsc"]["token"], str)
    assert meta["headers"]["RCRequestId"]
    assert WSG_TIME.match(body.pop("creationTime"))
    assert body == {
        "maxConnectionsPerSession": 50,
        "recoveryBufferSize": 100,
        "recoveryTimeout": 180,
        "idleTimeout": 1800,
        "absoluteTimeout": 86400,
        "maxActiveRequests": 10,
    }
    assert len(emu.world.connections) == 1


@pytest.mark.parametrize("query", ["", "?access_token=nonsense"])
async def test_missing_or_unknown_token_closes_4400(emu: Running, query: str) -> None:
    async with connect(emu.url.replace("http", "ws") + "/ws" + query) as ws:
        assert await closed_code(ws) == 4400


async def test_a_ws_token_opens_new_connections_until_it_expires(client: Client, clock: FakeClock) -> None:
    url = await client.url()  # expires_in 600
    for wait in (0, 599):  # a reconnect presents the same token again, as @rc-ex/ws does
        clock.advance(wait)
        async with connect(url) as ws:
            assert (await receive(ws))[0]["type"] == "ConnectionDetails"
    clock.advance(1)
    async with connect(url) as late:
        assert await closed_code(late) == 4400


async def test_subscription_over_client_requests(
    emu: Running, opened: tuple[ClientConnection, list[Any]]
) -> None:
    ws, _ = opened
    frame = await request(
        ws,
        "m-1",
        "POST",
        "/restapi/v1.0/subscription/",
        {"eventFilters": [INSTANT], "deliveryMode": {"transportType": "WebSocket"}},
    )
    meta, info = frame
    assert (meta["type"], meta["messageId"], meta["status"]) == ("ClientRequest", "m-1", 200)
    assert meta["headers"]["Content-Type"].startswith("application/json")
    assert meta["headers"]["RCRequestId"]
    assert "WSG-SubscriptionId" not in meta["headers"]
    ext = emu.world.extensions[0].id
    assert info["uri"] == f"/restapi/v1.0/subscription/{info['id']}"
    assert info["deliveryMode"] == {"transportType": "WebSocket", "encryption": False}
    assert info["expiresIn"] == 86399
    assert info["eventFilters"] == [
        f"/restapi/v1.0/account/{emu.world.account_id}/extension/{ext}/message-store/instant?type=SMS"
    ]

    replaced = await subscribe(ws, "m-2")  # one subscription per WebSocket session
    assert list(emu.world.subscriptions) == [replaced["id"]]

    store = "/restapi/v1.0/account/~/extension/~/message-store"
    updated = await request(
        ws, "m-3", "PUT", f"/restapi/v1.0/subscription/{replaced['id']}", {"eventFilters": [store]}
    )
    assert updated[0]["status"] == 200 and updated[1]["eventFilters"][0].endswith("/message-store")

    deleted = await request(ws, "m-4", "DELETE", f"/restapi/v1.0/subscription/{replaced['id']}")
    assert len(deleted) == 1 and deleted[0]["status"] == 204 and deleted[0]["messageId"] == "m-4"
    assert emu.world.subscriptions == {}


async def test_notifications_arrive_as_server_notifications(
    emu: Running, opened: tuple[ClientConnection, list[Any]]
) -> None:
    ws, _ = opened
    info = await subscribe(ws)
    assert publish(emu, 1) == 1
    meta, envelope = await receive(ws)
    assert meta["type"] == "ServerNotification" and meta["status"] == 200
    assert meta["messageId"] == envelope["uuid"]
    assert meta["headers"]["RCRequestId"]
    assert meta["wsc"]["sequence"] == 2
    assert envelope["subscriptionId"] == info["id"]
    assert envelope["body"] == {"id": "1"}
    assert envelope["event"] == info["eventFilters"][0]


async def test_plain_rest_over_the_socket(emu: Running, opened: tuple[ClientConnection, list[Any]]) -> None:
    ws, _ = opened
    meta, body = await request(ws, "r-1", "GET", "/restapi/v1.0/account/~/extension/~")
    assert (meta["type"], meta["messageId"], meta["status"]) == ("ClientRequest", "r-1", 200)
    assert body["id"] == emu.world.extensions[0].id
    assert meta["headers"]["X-Rate-Limit-Group"].lower() == "light"
    assert (meta["headers"]["RoutingKey"], meta["headers"]["Content-Language"]) == ("SJC01P07", "en-US")
    meta, body = await request(ws, "r-2", "GET", "/restapi/v1.0/nowhere")
    assert meta["status"] == 404 and body["errorCode"] == "CMN-120"
    store = "/restapi/v1.0/account/~/extension/~/message-store"
    with_query = {"type": "ClientRequest", "messageId": "r-3", "method": "GET", "path": f"{store}?page=1"}
    await ws.send(
        json.dumps([{**with_query, "query": {"perPage": 7}, "headers": {"Authorization": "Bearer forged"}}])
    )
    meta, body = await receive(ws)
    assert (meta["messageId"], meta["status"]) == ("r-3", 200)
    assert (body["paging"]["page"], body["paging"]["perPage"]) == (1, 7)


async def test_wsg_subscription_id_compatibility_switch(
    emu: Running, opened: tuple[ClientConnection, list[Any]]
) -> None:
    emu.world.limits.ws_subscription_id_header = True
    ws, _ = opened
    frame = await request(
        ws,
        "c-1",
        "POST",
        "/restapi/v1.0/subscription",
        {"eventFilters": [INSTANT], "deliveryMode": {"transportType": "WebSocket"}},
    )
    assert frame[0]["headers"]["WSG-SubscriptionId"] == frame[1]["id"]


@pytest.mark.parametrize(
    ("text", "message_id"),
    [
        (
            '[{"type":"ClientRequest","messageId":"n-1","method":"GET","path":"/restapi/v1.0/subscription"},null]',
            "n-1",
        ),
        ("{[ not json", None),
        ('{"type":"Heartbeat"}', None),
    ],
)
async def test_malformed_frames_get_wsg_808(
    opened: tuple[ClientConnection, list[Any]], text: str, message_id: str | None
) -> None:
    ws, _ = opened
    await ws.send(text)
    meta, body = await receive(ws)
    assert (meta["type"], meta["status"], body["errorCode"]) == ("Error", 400, "WSG-808")
    if message_id:
        assert meta["messageId"] == message_id
    await ws.send(json.dumps([{"type": "Heartbeat", "messageId": "still-open"}]))
    assert await receive(ws) == [{"type": "Heartbeat", "messageId": "still-open"}]


async def test_idle_timeout_ignores_pings(emu: Running, client: Client) -> None:
    emu.world.limits.idle_timeout = 1
    ws, details = await client.open(ping_interval=0.2)  # pings do not keep the session alive
    assert details[1]["idleTimeout"] == 1
    async with ws:
        meta, body = await receive(ws)
        assert (meta["type"], body) == ("Error", {"errorCode": "WSG-902", "message": "Idle timeout expired"})
        assert await closed_code(ws) == 1000


async def test_absolute_timeout(emu: Running, client: Client) -> None:
    emu.world.limits.absolute_timeout = 1  # the idle timeout stays 1800 s
    ws, _ = await client.open()
    async with ws:
        meta, body = await receive(ws)
        assert (meta["type"], body) == (
            "Error",
            {"errorCode": "WSG-903", "message": "Absolute timeout expired"},
        )
        assert await closed_code(ws) == 1000


async def test_injected_inbound_sms_reaches_the_socket(
    http: httpx.AsyncClient, emu: Running, opened: tuple[ClientConnection, list[Any]]
) -> None:
    ws, _ = opened
    info = await subscribe(ws)
    owner = emu.world.extensions[0]
    number = owner.phone_numbers[0].phone_number
    injected = await http.post(
        "/_emulator/inbound", json={"from": "+16505550199", "to": number, "text": "Are you open today?"}
    )
    assert injected.status_code == 200, injected.text
    assert injected.json()["notified"] >= 1
    meta, envelope = await receive(ws)
    assert meta["type"] == "ServerNotification"
    assert envelope["subscriptionId"] == info["id"]
    assert envelope["event"] == info["eventFilters"][0]
    body = envelope["body"]
    assert body["subject"] == "Are you open today?"
    assert body["from"]["phoneNumber"] == "+16505550199"
    assert body["to"][0]["phoneNumber"] == number
    assert body["id"] == str(injected.json()["messageId"])
