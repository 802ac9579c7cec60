"""The emulator's ASGI app: one port for REST, the WebSocket gateway and the control API.

HTTP requests outside ``/_emulator/`` become :class:`ApiRequest` and go through the
:class:`Dispatcher`; ``/ws`` is the WebSocket gateway; ``/_emulator/*`` is the control API.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from rcinbox.emulator.dispatch import Dispatcher
from rcinbox.emulator.routing import Routes
from rcinbox.emulator.wire import ApiError, ApiRequest, ApiResponse
from rcinbox.emulator.world import World

log = logging.getLogger("rcinbox.emulator")

MAX_BODY_BYTES = 20 * 1024 * 1024  # well above the 1.5 MB MMS limit; larger bodies are refused unread


def to_api_request(request: Request, body: bytes) -> ApiRequest:
    return ApiRequest(
        method=request.method,
        path=request.url.path,
        query=tuple(request.query_params.multi_items()),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        transport="http",
        client=request.client.host if request.client else "-",
    )


def to_response(api: ApiResponse) -> Response:
    response = Response(api.body, status_code=api.status, headers=api.headers)
    if api.content_type:
        response.headers["content-type"] = api.content_type
    return response


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "CMN-116", "Request entity too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "CMN-116", "Request entity too large")
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class Emulator:
    """The assembled emulator: world state, REST dispatcher and the ASGI app."""

    world: World
    routes: Routes
    extra_routes: list[BaseRoute] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(self.world, self.routes)

    async def rest(self, request: Request) -> Response:
        try:
            body = await read_body(request)
        except ApiError as exc:
            return to_response(exc.response())
        return to_response(await self.dispatcher.handle(to_api_request(request, body)))

    def asgi(self) -> Starlette:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        routes = [*self.extra_routes, Route("/{path:path}", self.rest, methods=methods)]
        return Starlette(routes=routes)
