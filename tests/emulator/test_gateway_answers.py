"""Every ``ClientRequest`` gets an answer for its ``messageId``: an unparseable path is WSG-808,
and a failure inside the gateway is an ``Error`` frame, never a request left hanging."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from rcinbox.emulator.push.connection import Connection
from rcinbox.emulator.runner import Running
from support import login

ME = "/restapi/v1.0/account/~/extension/~"


@pytest.fixture
async def ws(http: httpx.AsyncClient, emu: Running) -> AsyncIterator[ClientConnection]:
    token = await login(http, emu)
    answer = await http.post(
        "/restapi/oauth/wstoken", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    body = answer.json()
    async with connect(f"{body['uri']}?access_token={body['ws_access_token']}") as socket:
        assert (await receive(socket))[0]["type"] == "ConnectionDetails"
        yield socket


async def receive(socket: ClientConnection) -> list[Any]:
    frame: list[Any] = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))
    return frame


async def ask(socket: ClientConnection, message_id: str, path: object, method: object = "GET") -> list[Any]:
    meta = {"type": "ClientRequest", "messageId": message_id, "method": method, "path": path}
    await socket.send(json.dumps([meta]))
    return await receive(socket)


@pytest.mark.parametrize("path", ["http://[bad", "//[::zz/restapi/v1.0/account/~/extension/~"])
async def test_an_unparseable_path_is_wsg_808_for_its_message_id(ws: ClientConnection, path: str) -> None:
    meta, body = await ask(ws, "bad-path", path)
    assert (meta["type"], meta["messageId"], meta["status"]) == ("Error", "bad-path", 400)
    assert body["errorCode"] == "WSG-808"
    assert body["message"].startswith("Cannot parse request path")
    meta, body = await ask(ws, "after", ME)  # the socket keeps serving
    assert (meta["type"], meta["messageId"], meta["status"]) == ("ClientRequest", "after", 200)


@pytest.mark.parametrize(("method", "path"), [(None, ME), ("GET", 42), ("GET", ""), (["GET"], ME)])
async def test_bad_method_or_path_types_are_wsg_808(
    ws: ClientConnection, method: object, path: object
) -> None:
    meta, body = await ask(ws, "bad-meta", path, method)
    assert (meta["type"], meta["messageId"], body["errorCode"]) == ("Error", "bad-meta", "WSG-808")


async def test_a_wrong_method_over_the_socket_is_405(ws: ClientConnection) -> None:
    meta, body = await ask(ws, "m-405", "/restapi/oauth/token", "DELETE")
    assert (meta["type"], meta["messageId"], meta["status"]) == ("ClientRequest", "m-405", 405)
    assert body["errorCode"] == "CMN-120"


async def test_a_failure_while_reading_a_request_still_answers_its_message_id(
    ws: ClientConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Connection, meta: dict[str, Any], body: object) -> None:
        raise RuntimeError("a bug in the gateway")

    monkeypatch.setattr(Connection, "_api_request", broken)
    meta, body = await ask(ws, "m-bug", ME)
    assert (meta["type"], meta["messageId"], meta["status"]) == ("Error", "m-bug", 500)
    assert body == {"errorCode": "CMN-201", "message": "Service Temporary Unavailable"}


async def test_a_failure_while_answering_still_answers_its_message_id(
    ws: ClientConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Connection, *args: object) -> list[Any]:
        raise RuntimeError("a bug in the gateway")

    monkeypatch.setattr(Connection, "_response_frame", broken)
    meta, body = await ask(ws, "m-late", ME)
    assert (meta["type"], meta["messageId"], meta["status"]) == ("Error", "m-late", 500)
    assert body["errorCode"] == "CMN-201"
