"""Every ``ClientRequest`` gets an answer for its ``messageId``: an unparseable path is WSG-808,
and a failure inside the gateway is an ``Error`` frame, never a request left hanging. The failures
are made at the connection's own seams (its dispatch and activity callbacks, over a scripted
socket), not by patching its methods."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from support import login
from websockets.asyncio.client import ClientConnection, connect

from rcinbox.emulator.push.connection import Connection
from rcinbox.emulator.runner import Running
from rcinbox.emulator.wire import ApiRequest, ApiResponse
from rcinbox.emulator.world import Limits

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


class ScriptedSocket:
    """The WebSocket side of one :class:`Connection`: frames the test feeds in, frames it sent."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: asyncio.Queue[str] = asyncio.Queue()

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send_text(self, data: str) -> None:
        await self.sent.put(data)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        return None

    def feed(self, *frame: Any) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "text": json.dumps(list(frame))})

    async def answer(self) -> list[Any]:
        frame: list[Any] = json.loads(await asyncio.wait_for(self.sent.get(), timeout=5))
        return frame


def bug(*args: object) -> Any:
    raise RuntimeError("a bug in the gateway")


async def answer_to(socket: ScriptedSocket, connection: Connection, message_id: str) -> list[Any]:
    """Run ``connection``, send one ``ClientRequest`` and return the frame that answers it."""
    serving = asyncio.create_task(connection.run())
    try:
        socket.feed({"type": "ClientRequest", "messageId": message_id, "method": "GET", "path": ME})
        return await socket.answer()
    finally:
        socket.incoming.put_nowait({"type": "websocket.disconnect"})
        await asyncio.wait_for(serving, 5)


async def unused_dispatch(request: ApiRequest) -> ApiResponse:
    return ApiResponse(200, b"{}")


async def test_a_failure_while_handling_a_frame_still_answers_its_message_id() -> None:
    socket = ScriptedSocket()
    connection = Connection(
        socket, "session", Limits(), dispatch=unused_dispatch, bearer=lambda: "token", on_activity=bug
    )
    meta, body = await answer_to(socket, connection, "m-bug")
    assert (meta["type"], meta["messageId"], meta["status"]) == ("Error", "m-bug", 500)
    assert body == {"errorCode": "CMN-201", "message": "Service Temporary Unavailable"}


async def test_a_failure_while_answering_still_answers_its_message_id() -> None:
    socket = ScriptedSocket()

    async def broken(request: ApiRequest) -> ApiResponse:
        raise RuntimeError("a bug in the dispatcher")

    connection = Connection(
        socket, "session", Limits(), dispatch=broken, bearer=lambda: "token", on_activity=lambda: None
    )
    meta, body = await answer_to(socket, connection, "m-late")
    assert (meta["type"], meta["messageId"], meta["status"]) == ("Error", "m-late", 500)
    assert body["errorCode"] == "CMN-201"


async def test_a_request_carries_the_sessions_current_bearer_and_marks_activity() -> None:
    socket = ScriptedSocket()
    seen: list[ApiRequest] = []
    active: list[bool] = []

    async def record(request: ApiRequest) -> ApiResponse:
        seen.append(request)
        return ApiResponse(200, b'{"ok": true}')

    tokens = iter(["first", "second"])
    connection = Connection(
        socket,
        "gw-1",
        Limits(),
        dispatch=record,
        bearer=lambda: next(tokens),
        on_activity=lambda: active.append(True),
    )
    meta, body = await answer_to(socket, connection, "m-ok")
    assert (meta["type"], meta["status"], body) == ("ClientRequest", 200, {"ok": True})
    [request] = seen
    assert (request.transport, request.path, request.headers["authorization"]) == ("ws", ME, "Bearer first")
    assert request.headers["x-rcinbox-ws-session"] == "gw-1"
    assert active == [True]
