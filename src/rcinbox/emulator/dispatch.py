"""One entry point for every emulated REST call, whichever transport carried it.

``Dispatcher.handle(ApiRequest) -> ApiResponse`` runs the same pipeline for HTTP and for
WebSocket ``ClientRequest`` frames:

    modelled latency → injected faults → route → authentication (bearer / client) →
    ``~`` resolution and access check → rate limit (per user and group) → handler →
    RingCentral error shapes, rate-limit and request-id headers → one log line
"""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from typing import TYPE_CHECKING

from rcinbox.emulator.model import Session
from rcinbox.emulator.oauth import note_use, token_owner
from rcinbox.emulator.routing import Call, Route, Routes
from rcinbox.emulator.wire import ApiError, ApiRequest, ApiResponse, is_ascii_int
from rcinbox.emulator.world import TOKEN_PREFIX

if TYPE_CHECKING:
    from rcinbox.emulator.world import World

log = logging.getLogger("rcinbox.emulator")

ROUTING_KEY = "SJC01P07"  # the platform's RoutingKey header, as observed (PLATFORM §3.2, §7.2)


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


class Dispatcher:
    def __init__(self, world: World, routes: Routes) -> None:
        self.world = world
        self.routes = routes

    async def handle(self, request: ApiRequest) -> ApiResponse:
        started = self.world.now()
        if self.world.limits.latency_ms:
            await asyncio.sleep(self.world.limits.latency_ms / 1000)
        response, who = await self._handle(request)
        response.headers.setdefault("RCRequestId", str(uuid.uuid4()))
        response.headers.setdefault("RoutingKey", ROUTING_KEY)
        response.headers.setdefault("Content-Language", "en-US")
        elapsed = (self.world.now() - started) * 1000
        log.info(
            "%s %s %s -> %d %s (%s, %.1f ms)",
            request.transport.upper(),
            request.method,
            request.path,
            response.status,
            _error_code(response),
            who,
            elapsed,
        )
        return response

    async def _handle(self, request: ApiRequest) -> tuple[ApiResponse, str]:
        who = request.client
        try:
            if self.world.faults is not None:
                injected = self.world.faults.take_http(request.method, request.path)
                if injected is not None:
                    return injected, who + " fault"
            found = self.routes.find(request.method, request.path)
            if found is False:
                allowed = self.routes.methods(request.path)
                raise ApiError(405, "CMN-120", "Invalid URI", headers={"Allow": ", ".join(allowed)})
            if found is None:
                raise ApiError(404, "CMN-120", "Invalid URI")
            route, params = found
            session: Session | None = None
            try:
                session = self._authenticate(route, request)
                if session is not None:
                    who = f"ext {session.extension_id}"
                    params = self._resolve(route, params, session)
            except ApiError as refused:  # 401 and 403 pass the gateway too: counted, with headers
                refused.headers = {**self._throttle(route, request, session), **refused.headers}
                raise
            headers = self._throttle(route, request, session)
            try:
                response = await route.handler(Call(self.world, request, params, session))
            except ApiError as exc:  # a refused request still carries its rate-limit headers
                response = exc.response()
            for key, value in headers.items():
                response.headers.setdefault(key, value)
            return response, who
        except ApiError as exc:
            return exc.response(), who
        except Exception:  # the top of the request loop: never leak a stack trace to a client
            log.exception("unhandled error on %s %s", request.method, request.path)
            error = ApiError(500, "CMN-201", "Service Temporary Unavailable")
            return error.response(), who

    def _authenticate(self, route: Route, request: ApiRequest) -> Session | None:
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

    def _resolve(self, route: Route, params: dict[str, str], session: Session) -> dict[str, str]:
        params = dict(params)
        if params.get("accountId") == "~":
            params["accountId"] = str(session.account_id)
        if params.get("extensionId") == "~":
            params["extensionId"] = str(session.extension_id)
        if "accountId" in params and params["accountId"] != str(session.account_id):
            raise ApiError(
                404, "CMN-102", "Resource for parameter [accountId] is not found", parameter="accountId"
            )
        if "extensionId" in params:
            if not is_ascii_int(params["extensionId"]):
                raise ApiError(
                    404,
                    "CMN-102",
                    "Resource for parameter [extensionId] is not found",
                    parameter="extensionId",
                )
            target = self.world.extension(int(params["extensionId"]))
            caller = self.world.extension(session.extension_id)
            if target.id != caller.id and not caller.super_admin:
                raise ApiError(403, "CMN-419", "Access denied: extension belongs to another user")
        return params

    def _throttle(self, route: Route, request: ApiRequest, session: Session | None) -> dict[str, str]:
        limiter = self.world.ratelimiter
        if limiter is None or route.group == "NoThrottling":
            return {}
        return limiter.hit(self._key(route, request, session), route.group)

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
