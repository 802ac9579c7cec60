"""Two small peers of the emulator for tests: a WebHook receiver and a WebSocket gateway client.

- :class:`HookReceiver`: a real HTTP server on a loopback port (uvicorn on a pre-bound socket, so
  it accepts as soon as it exists) that answers the ``Validation-Token`` handshake (or fails it on
  purpose, see ``handshake``) and queues every notification it gets, with its headers.
- :class:`GatewayClient`: connects to the ``uri`` from ``/restapi/oauth/wstoken``, reads the
  ``ConnectionDetails`` frame, sends ``ClientRequest`` frames and matches answers by
  ``messageId``, and queues ``ServerNotification`` bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from websockets.asyncio.client import ClientConnection, connect


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: Any


@dataclass
class HookReceiver:
    url: str = ""
    handshake: str = "echo"  # "echo" the Validation-Token, answer "without" it, or echo in a "big" answer
    validations: list[str] = field(default_factory=list)
    deliveries: asyncio.Queue[Delivery] = field(default_factory=asyncio.Queue)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        answer = [(b"content-type", b"application/json")]
        token = headers.get("validation-token")
        content = b""
        if token is not None:
            self.validations.append(token)
            if self.handshake != "without":
                answer.append((b"validation-token", token.encode()))
            if self.handshake == "big":
                content = b" " * 1100  # over the 1024 bytes a handshake answer may have
        else:
            await self.deliveries.put(Delivery(headers, orjson.loads(body) if body else None))
        await send({"type": "http.response.start", "status": 200, "headers": answer})
        await send({"type": "http.response.body", "body": content})

    async def next(self, within: float = 5.0) -> Delivery:
        return await asyncio.wait_for(self.deliveries.get(), within)


@contextlib.asynccontextmanager
async def hook_receiver(path: str = "/rc/webhook") -> AsyncIterator[HookReceiver]:
    receiver = HookReceiver()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}{path}"
    config = uvicorn.Config(receiver, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield receiver
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@dataclass
class GatewayClient:
    ws: ClientConnection
    details: list[Any]  # the ConnectionDetails frame: [meta, body]
    notifications: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    _pending: dict[str, asyncio.Future[list[Any]]] = field(default_factory=dict)
    _reader: asyncio.Task[None] | None = None

    async def request(self, method: str, path: str, body: Any = None, within: float = 5.0) -> tuple[int, Any]:
        """A REST call over the gateway; returns (status, body or None)."""
        message_id = str(uuid.uuid4())
        meta = {"type": "ClientRequest", "messageId": message_id, "method": method, "path": path}
        frame = [meta] if body is None else [meta, body]
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self.ws.send(orjson.dumps(frame).decode())
        answer = await asyncio.wait_for(future, within)
        return int(answer[0].get("status", 0)), (answer[1] if len(answer) > 1 else None)

    async def _read(self) -> None:
        async for raw in self.ws:
            frame = orjson.loads(raw)
            meta = frame[0]
            if meta.get("type") == "ServerNotification":
                await self.notifications.put(frame[1])
            elif meta.get("messageId") in self._pending:
                self._pending.pop(meta["messageId"]).set_result(frame)

    async def next(self, within: float = 5.0) -> Any:
        return await asyncio.wait_for(self.notifications.get(), within)

    async def collect(self, count: int, within: float = 10.0) -> list[Any]:
        """The next ``count`` notifications, all within one deadline."""
        async with asyncio.timeout(within):
            return [await self.notifications.get() for _ in range(count)]


@contextlib.asynccontextmanager
async def gateway(uri: str, ws_access_token: str) -> AsyncIterator[GatewayClient]:
    async with connect(f"{uri}?access_token={ws_access_token}", open_timeout=5) as ws:
        details = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        client = GatewayClient(ws, details)
        client._reader = asyncio.create_task(client._read())
        try:
            yield client
        finally:
            client._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await client._reader
