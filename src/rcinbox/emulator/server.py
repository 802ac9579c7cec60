"""The emulator's ASGI app: one port for REST, the WebSocket gateway and the control API.

HTTP requests outside ``/_emulator/`` become :class:`ApiRequest` and go through the
:class:`Dispatcher`; ``/ws`` is the WebSocket gateway; ``/_emulator/*`` is the control API.
:class:`Emulator` is the assembled whole (:func:`rcinbox.emulator.api.assemble` builds it): the
world, the services around it, and the app over them.
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
from rcinbox.emulator.faults import Faults
from rcinbox.emulator.push.gateway import Gateway
from rcinbox.emulator.push.webhooks import Webhooks
from rcinbox.emulator.ratelimit import RateLimiter
from rcinbox.emulator.routing import Routes
from rcinbox.emulator.wire import ApiError, read_body, to_api_request, to_response
from rcinbox.emulator.world import World

log = logging.getLogger("rcinbox.emulator")

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]  # all reach the dispatcher


@dataclass
class Emulator:
    """The assembled emulator: the world, the services around it and the ASGI app over them."""

    world: World
    routes: Routes  # the REST API (the dispatcher's table)
    dispatcher: Dispatcher
    ratelimiter: RateLimiter
    faults: Faults
    webhooks: Webhooks
    gateway: Gateway
    extra_routes: list[BaseRoute] = field(default_factory=list)  # the control API and /ws
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)  # run on app shutdown

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
