"""(being written) The WebSocket gateway."""

from __future__ import annotations

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from rcinbox.emulator.server import Emulator


def route(emulator: Emulator) -> BaseRoute:
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.close(4400)

    return WebSocketRoute("/ws", endpoint)
