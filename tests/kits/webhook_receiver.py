"""A real HTTP webhook receiver on a free loopback port, recording what the emulator sends.

``validation`` picks how it answers the ``Validation-Token`` handshake: ``echo`` (correct),
``none`` (no header), ``wrong`` (another value), ``big`` (echo, but > 1024 bytes), ``slow``
(echo after ``slow_seconds``) or ``status`` (echo with ``validation_status``). Notifications
are answered with ``delivery_status`` after ``delivery_delay`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        parsed: dict[str, object] = orjson.loads(self.body)
        return parsed


@dataclass
class Receiver:
    url: str = ""
    validation: str = "echo"
    validation_status: int = 200
    slow_seconds: float = 2.5
    delivery_status: int = 200
    delivery_delay: float = 0.0
    validations: list[Received] = field(default_factory=list)
    deliveries: list[Received] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: Request) -> Response:
        received = Received(dict(request.headers), await request.body())
        token = request.headers.get("validation-token")
        if token is None:
            self.deliveries.append(received)
            self._arrived.set()
            if self.delivery_delay:
                await asyncio.sleep(self.delivery_delay)
            return Response(status_code=self.delivery_status)
        self.validations.append(received)
        return await self._validate(token)

    async def _validate(self, token: str) -> Response:
        headers = {"Validation-Token": token, "Content-Type": "application/json"}
        if self.validation == "none":
            headers.pop("Validation-Token")
        elif self.validation == "wrong":
            headers["Validation-Token"] = token[::-1] + "x"
        elif self.validation == "slow":
            await asyncio.sleep(self.slow_seconds)
        elif self.validation == "big":
            return Response(b"x" * 1200, headers=headers)
        status = self.validation_status if self.validation == "status" else 200
        return Response(status_code=status, headers=headers)

    async def wait_deliveries(self, count: int) -> list[Received]:
        async with asyncio.timeout(5):
            while len(self.deliveries) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.deliveries


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def running_receiver(path: str = "/hook") -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route(path, receiver.handle, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # listening already: connections wait in the backlog until uvicorn serves them
    receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}{path}"
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield receiver
    finally:
        server.should_exit = True
        server.force_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()
