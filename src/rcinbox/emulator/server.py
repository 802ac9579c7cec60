"""The emulator's ASGI app: one port for REST, the WebSocket gateway and the control API.

HTTP requests outside ``/_emulator/`` become :class:`ApiRequest` and go through the
:class:`Dispatcher`; ``/ws`` is the WebSocket gateway; ``/_emulator/*`` is the control API.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from rcinbox.emulator.dispatch import Dispatcher
from rcinbox.emulator.routing import Routes
from rcinbox.emulator.wire import ApiError, ApiRequest, ApiResponse, is_ascii_int
from rcinbox.emulator.world import World

log = logging.getLogger("rcinbox.emulator")

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]  # all reach the dispatcher
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
    if declared is not None and is_ascii_int(declared) and int(declared) > limit:
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
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)  # run on app shutdown

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(self.world, self.routes)

    async def rest(self, request: Request) -> Response:
        try:
            self._refuse_control_method(request)
            body = await read_body(request)
        except ApiError as exc:
            log.info("HTTP %s %s -> %d %s (refused)", request.method, request.url.path, exc.status, exc.code)
            response = exc.response()
            response.headers["RCRequestId"] = str(uuid.uuid4())
            return to_response(response)
        return to_response(await self.dispatcher.handle(to_api_request(request, body)))

    def _refuse_control_method(self, request: Request) -> None:
        """A control path asked with a method it does not serve: 405 with ``Allow``, as REST paths get."""
        for route in self.extra_routes:
            if isinstance(route, Route) and route.path == request.url.path and route.methods:
                allowed = ", ".join(sorted(route.methods - {"HEAD"}))
                raise ApiError(405, "CMN-120", "Invalid URI", headers={"Allow": allowed})

    def asgi(self) -> Starlette:
        routes = [*self.extra_routes, Route("/{path:path}", self.rest, methods=METHODS)]
        handlers = {HTTPException: _http_error, Exception: _crash}
        return Starlette(routes=routes, lifespan=self.lifespan, exception_handlers=handlers)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """On shutdown, close what the modules own (webhook HTTP client, gateway sessions)."""
        try:
            yield
        finally:
            for close in reversed(self.closers):
                await close()


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (e.g. an exotic method) in RingCentral's error shape."""
    status, detail = (exc.status_code, exc.detail) if isinstance(exc, HTTPException) else (500, "")
    code, message = ("CMN-120", "Invalid URI") if status in (404, 405) else ("CMN-201", detail)
    log.info("HTTP %s %s -> %d %s", request.method, request.url.path, status, code)
    return to_response(ApiError(status, code, message).response())


async def _crash(request: Request, exc: Exception) -> Response:
    """Last resort for a bug in a control route: RingCentral's 500 shape, never a stack trace."""
    log.error("unhandled error on %s %s: %r", request.method, request.url.path, exc)
    return to_response(ApiError(500, "CMN-201", "Service Temporary Unavailable").response())
