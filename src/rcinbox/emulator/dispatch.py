"""One entry point for every emulated REST call, whichever transport carried it.

``Dispatcher.handle(ApiRequest) -> ApiResponse`` runs the same middleware chain for HTTP and for
WebSocket ``ClientRequest`` frames, outermost first (each step wraps the ones after it):

1. :meth:`~Dispatcher.log_line`: one log line per request (its ``who`` and time), and the headers
   every answer carries (``RCRequestId``, ``RoutingKey``, ``Content-Language``);
2. :meth:`~Dispatcher.latency`: the modelled round trip (``limits.latency_ms``);
3. :meth:`~Dispatcher.shape_errors`: an :class:`ApiError` from any later step becomes RingCentral's
   error body; anything else is a 500 CMN-201, never a stack trace;
4. :meth:`~Dispatcher.inject_faults`: an injected HTTP fault answers before routing;
5. :meth:`~Dispatcher.route`: the route and its path parameters (405 with ``Allow``, or 404);
6. :meth:`~Dispatcher.authenticate`: bearer token, ``~`` resolution and access check; a refusal is
   still counted by the rate limiter and carries its headers;
7. :meth:`~Dispatcher.throttle`: the rate limit per user and group (429), and its headers on every
   answer, errors included;
8. the route's handler.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from rcinbox.emulator.faults import Faults
from rcinbox.emulator.model import Session
from rcinbox.emulator.oauth import note_use, token_owner
from rcinbox.emulator.ratelimit import RateLimiter
from rcinbox.emulator.routing import Call, Miss, Route, Routes
from rcinbox.emulator.wire import ApiError, ApiRequest, ApiResponse, is_ascii_int, not_found
from rcinbox.emulator.world import TOKEN_PREFIX, World

log = logging.getLogger("rcinbox.emulator")

ROUTING_KEY = "SJC01P07"  # the platform's RoutingKey header, as observed (PLATFORM §3.2, §7.2)


@dataclass
class Exchange:
    """One request on its way through the chain, and what the steps found out about it."""

    request: ApiRequest
    who: str  # for the log line: the client's address, then ``ext <id>``; `` fault`` when injected
    route: Route | None = None
    params: dict[str, str] | None = None
    session: Session | None = None

    @property
    def routed(self) -> tuple[Route, dict[str, str]]:
        assert self.route is not None and self.params is not None, "the route step runs first"
        return self.route, self.params


Next = Callable[[Exchange], Awaitable[ApiResponse]]
Middleware = Callable[[Exchange, Next], Awaitable[ApiResponse]]


def bearer_token(request: ApiRequest) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.arg("access_token")


def basic_client(request: ApiRequest) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value.strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return client_id, secret


def chain(middlewares: Sequence[Middleware], endpoint: Next) -> Next:
    """``middlewares[0]`` outermost, each calling the next, ``endpoint`` last."""
    for middleware in reversed(middlewares):
        endpoint = _wrap(middleware, endpoint)
    return endpoint


def _wrap(middleware: Middleware, call_next: Next) -> Next:
    async def step(exchange: Exchange) -> ApiResponse:
        return await middleware(exchange, call_next)

    return step


class Dispatcher:
    def __init__(self, world: World, routes: Routes, faults: Faults, limiter: RateLimiter) -> None:
        self.world = world
        self.routes = routes
        self.faults = faults
        self.limiter = limiter
        self._handle = chain(
            [
                self.log_line,
                self.latency,
                self.shape_errors,
                self.inject_faults,
                self.route,
                self.authenticate,
                self.throttle,
            ],
            self.run_handler,
        )

    async def handle(self, request: ApiRequest) -> ApiResponse:
        return await self._handle(Exchange(request, request.client))

    # the chain, outermost first
    async def log_line(self, exchange: Exchange, call_next: Next) -> ApiResponse:
        started = self.world.now()
        response = await call_next(exchange)
        response.headers.setdefault("RCRequestId", str(uuid.uuid4()))
        response.headers.setdefault("RoutingKey", ROUTING_KEY)
        response.headers.setdefault("Content-Language", "en-US")
        request = exchange.request
        log.info(
            "%s %s %s -> %d %s (%s, %.1f ms)",
            request.transport.upper(),
            request.method,
            request.path,
            response.status,
            _error_code(response),
            exchange.who,
            (self.world.now() - started) * 1000,
        )
        return response

    async def latency(self, exchange: Exchange, call_next: Next) -> ApiResponse:
        if self.world.limits.latency_ms:
            await asyncio.sleep(self.world.limits.latency_ms / 1000)
        return await call_next(exchange)

    async def shape_errors(self, exchange: Exchange, call_next: Next) -> ApiResponse:
        try:
            return await call_next(exchange)
        except ApiError as exc:
            return exc.response()
        except Exception:  # the top of the request loop: never leak a stack trace to a client
            log.exception("unhandled error on %s %s", exchange.request.method, exchange.request.path)
            return ApiError(500, "CMN-201", "Service Temporary Unavailable").response()

    async def inject_faults(self, exchange: Exchange, call_next: Next) -> ApiResponse:
        injected = self.faults.take_http(exchange.request.method, exchange.request.path)
        if injected is None:
            return await call_next(exchange)
        exchange.who += " fault"
        return injected

    async def route(self, exchange: Exchange, call_next: Next) -> ApiResponse:
        found = self.routes.find(exchange.request.method, exchange.request.path)
        if isinstance(found, Miss):
            if found.allowed:
                raise ApiError(405, "CMN-120", "Invalid URI", headers={"Allow": ", ".join(found.allowed)})
            raise ApiError(404, "CMN-120", "Invalid URI")
        exchange.route, exchange.params = found.route, found.params
        return await call_next(exchange)

    async def authenticate(self, exchange: Exchange, call_next: Next) -> ApiResponse:
        route, params = exchange.routed
        try:
            exchange.session = self._session(route, exchange.request)
            if exchange.session is not None:
                exchange.who = f"ext {exchange.session.extension_id}"
                exchange.params = self._resolve(params, exchange.session)
        except ApiError as refused:  # 401 and 403 pass the gateway too: counted, with headers
            refused.headers = {**self._count(exchange), **refused.headers}
            raise
        return await call_next(exchange)

    async def throttle(self, exchange: Exchange, call_next: Next) -> ApiResponse:
        headers = self._count(exchange)
        try:
            response = await call_next(exchange)
        except ApiError as exc:  # a refused request still carries its rate-limit headers
            response = exc.response()
        for key, value in headers.items():
            response.headers.setdefault(key, value)
        return response

    async def run_handler(self, exchange: Exchange) -> ApiResponse:
        route, params = exchange.routed
        return await route.handler(Call(self.world, exchange.request, params, exchange.session))

    # the steps' helpers
    def _session(self, route: Route, request: ApiRequest) -> Session | None:
        if route.auth != "bearer":
            return None
        token = bearer_token(request)
        if token is None:
            raise ApiError(401, "AGW-401", "Authorization header is not specified")
        session = self.world.session_by_access_token(token)
        if session is None and not token.startswith(TOKEN_PREFIX):  # not a token at all (PLATFORM §1.4)
            raise ApiError(401, "OAU-149", "OAuth token is invalid", outer_code="TokenInvalid")
        if session is None or session.revoked:
            raise ApiError(401, "OAU-213", "Token not found", outer_code="TokenInvalid")
        if session.access_expires_at <= self.world.now():
            raise ApiError(401, "OAU-128", "Access token is expired", outer_code="TokenInvalid")
        note_use(session, self.world.now())  # shortens the old refresh token's grace (PLATFORM §1.3)
        return session

    def _resolve(self, params: dict[str, str], session: Session) -> dict[str, str]:
        params = dict(params)
        if params.get("accountId") == "~":
            params["accountId"] = str(session.account_id)
        if params.get("extensionId") == "~":
            params["extensionId"] = str(session.extension_id)
        if "accountId" in params and params["accountId"] != str(session.account_id):
            raise not_found("accountId")
        if "extensionId" in params:
            if not is_ascii_int(params["extensionId"]):
                raise not_found("extensionId")
            target = self.world.extension(int(params["extensionId"]))
            caller = self.world.extension(session.extension_id)
            if target.id != caller.id and not caller.super_admin:
                raise ApiError(403, "CMN-419", "Access denied: extension belongs to another user")
        return params

    def _count(self, exchange: Exchange) -> dict[str, str]:
        """One request against the caller's rate limit: its headers, or 429 as :class:`ApiError`."""
        route, _ = exchange.routed
        if route.group == "NoThrottling":
            return {}
        return self.limiter.hit(self._key(route, exchange.request, exchange.session), route.group)

    def _key(self, route: Route, request: ApiRequest, session: Session | None) -> str:
        """Who is counted: the user and app; for token calls the user the form names (PLATFORM §7.1)."""
        if session is not None:
            return f"ext:{session.extension_id}:{session.client_id}"
        client = basic_client(request)
        if client is None:
            return f"ip:{request.client}"  # an unauthenticated call: the gateway counts the caller
        owner = token_owner(self.world, request) if route.auth == "client" else None
        return f"ext:{owner}:{client[0]}" if owner is not None else f"client:{client[0]}"


def _error_code(response: ApiResponse) -> str:
    if response.status < 400 or not response.body.startswith(b"{"):
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("errorCode") or body.get("error") or "")
