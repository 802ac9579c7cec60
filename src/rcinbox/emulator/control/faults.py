"""The faults control API: ``POST/GET/DELETE /_emulator/faults`` (camelCase JSON).

``POST`` takes any of these keys and answers with what it applied, key by key::

    {"http": [{"method": "POST", "path": "/restapi/v1.0/account/*/extension/*/sms",
               "status": 503, "count": 2, "errorCode"?: "CMN-201", "message"?: "...",
               "retryAfter"?: 60}],
     "rateLimits": {"enabled": true, "Light": 50, "Medium": 40, "Heavy": 10, "Auth": 5,
                    "window": 60, "penalty": 60},
     "dropWebSockets": true, "expireTokens": true, "blacklistWebhooks": true,
     "webhookDelayMs": 4000}

HTTP faults answer the next ``count`` (default 1) requests whose method and path match with
``status`` and a RingCentral error body, before routing or authentication. ``method`` is an
HTTP method or ``*``. ``path`` is a glob over the request path (no query): ``*`` matches
within one path segment, ``**`` across segments, ``?`` one character; a path starting with
``^`` is a Python regular expression searched in the path instead. The first matching fault
is consumed. ``GET`` shows the active faults; ``DELETE`` clears HTTP faults and restores the
start-up rate limits and webhook delay. Bad control input answers 400 with a RingCentral error.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, TypeGuard

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from rcinbox.emulator.control import answer
from rcinbox.emulator.faults import Faults, HttpFault, is_int, parse_http_fault
from rcinbox.emulator.push.webhooks import TIMEOUT_REASON, blacklist
from rcinbox.emulator.ratelimit import GROUPS, RateLimiter
from rcinbox.emulator.routing import Group
from rcinbox.emulator.wire import (
    ApiError,
    ApiResponse,
    invalid_parameter,
    json_response,
    loads,
    read_body,
)
from rcinbox.emulator.world import World

log = logging.getLogger("rcinbox.emulator")


@dataclass
class FaultControl:
    """What the faults control API acts on: the HTTP faults, the rate limits and the world."""

    world: World
    faults: Faults
    limiter: RateLimiter

    def clear(self) -> None:
        self.faults.clear()
        self.limiter.reset()
        self.world.webhook_delay = 0.0

    def state(self) -> dict[str, Any]:
        return {
            "http": self.faults.describe(),
            "rateLimits": self.limiter.config.describe(),
            "webhookDelayMs": round(self.world.webhook_delay * 1000),
        }

    # one-shot faults
    async def drop_websockets(self) -> int:
        connections = list(self.world.connections)
        results = await asyncio.gather(*(c.drop() for c in connections), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.warning("fault: dropping a WebSocket failed: %r", result)
        log.info("fault: dropped %d WebSocket connection(s)", len(connections))
        return len(connections)

    def expire_tokens(self) -> int:
        now = self.world.now()
        live = [s for s in self.world.sessions.values() if not s.revoked]
        for session in live:
            session.access_expires_at = min(session.access_expires_at, now)
            session.refresh_expires_at = min(session.refresh_expires_at, now)
            session.previous_refresh_until = 0.0
        for ws_token in self.world.ws_tokens.values():
            ws_token.expires_at = min(ws_token.expires_at, now)
        log.info("fault: expired the tokens of %d session(s)", len(live))
        return len(live)

    def blacklist_webhooks(self) -> int:
        hooks = [
            s for s in self.world.subscriptions.values() if s.transport == "WebHook" and s.status == "Active"
        ]
        for sub in hooks:
            blacklist(self.world, sub, TIMEOUT_REASON)
        log.info("fault: blacklisted %d WebHook subscription(s)", len(hooks))
        return len(hooks)


# --- control API input ---------------------------------------------------------------------


def parse_rate_limits(raw: Any) -> dict[str, Any]:
    """Keyword arguments for :meth:`RateLimiter.configure`."""
    if not isinstance(raw, dict):
        raise invalid_parameter("rateLimits")
    by_name: dict[str, Group] = {group.lower(): group for group in GROUPS}
    kwargs: dict[str, Any] = {}
    limits: dict[Group, int] = {}
    for key, value in raw.items():
        name = f"rateLimits.{key}"
        if key == "enabled":
            if not isinstance(value, bool):
                raise invalid_parameter(name, str(value))
            kwargs["enabled"] = value
        elif key in ("window", "penalty"):
            if not _is_number(value) or value < (1 if key == "window" else 0):
                raise invalid_parameter(name, str(value))
            kwargs[key] = float(value)
        elif key.lower() in by_name:
            if not is_int(value) or value < 1:
                raise invalid_parameter(name, str(value))
            limits[by_name[key.lower()]] = value
        else:
            raise invalid_parameter(name)
    if limits:
        kwargs["limits"] = limits
    return kwargs


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class FaultRequest:
    """A validated ``POST /_emulator/faults`` body: nothing is applied unless all of it is valid."""

    http: list[HttpFault] | None = None
    rate_limits: dict[str, Any] | None = None
    drop_websockets: bool | None = None
    expire_tokens: bool | None = None
    blacklist_webhooks: bool | None = None
    webhook_delay_ms: float | None = None

    @classmethod
    def parse(cls, body: Any) -> FaultRequest:
        if not isinstance(body, dict):
            raise ApiError(400, "CMN-101", "Parameter [body] value is invalid.", parameter="body")
        known = {
            "http",
            "rateLimits",
            "dropWebSockets",
            "expireTokens",
            "blacklistWebhooks",
            "webhookDelayMs",
        }
        for key in body:
            if key not in known:
                raise invalid_parameter(key)
        flags = {key: body.get(key) for key in ("dropWebSockets", "expireTokens", "blacklistWebhooks")}
        for key, value in flags.items():
            if value is not None and not isinstance(value, bool):
                raise invalid_parameter(key, str(value))
        http = body.get("http")
        if http is not None and not isinstance(http, list):
            raise invalid_parameter("http")
        delay = body.get("webhookDelayMs")
        if delay is not None and (not _is_number(delay) or delay < 0):
            raise invalid_parameter("webhookDelayMs", str(delay))
        rate = body.get("rateLimits")
        return cls(
            http=[parse_http_fault(item) for item in http] if http is not None else None,
            rate_limits=parse_rate_limits(rate) if rate is not None else None,
            drop_websockets=flags["dropWebSockets"],
            expire_tokens=flags["expireTokens"],
            blacklist_webhooks=flags["blacklistWebhooks"],
            webhook_delay_ms=delay,
        )

    async def apply(self, control: FaultControl) -> dict[str, Any]:
        applied: dict[str, Any] = {}
        if self.http is not None:
            control.faults.add_http(self.http)
            applied["http"] = [fault.describe() for fault in self.http]
        if self.rate_limits is not None:
            applied["rateLimits"] = control.limiter.configure(**self.rate_limits).describe()
        if self.webhook_delay_ms is not None:
            control.world.webhook_delay = self.webhook_delay_ms / 1000
            applied["webhookDelayMs"] = self.webhook_delay_ms
        if self.drop_websockets is not None:
            applied["dropWebSockets"] = await control.drop_websockets() if self.drop_websockets else 0
        if self.expire_tokens is not None:
            applied["expireTokens"] = control.expire_tokens() if self.expire_tokens else 0
        if self.blacklist_webhooks is not None:
            applied["blacklistWebhooks"] = control.blacklist_webhooks() if self.blacklist_webhooks else 0
        return applied


# --- control routes ------------------------------------------------------------------------


def routes(control: FaultControl) -> list[BaseRoute]:
    async def apply(request: Request) -> tuple[ApiResponse, str]:
        if request.method == "GET":
            return json_response(control.state()), "state shown"
        if request.method == "DELETE":
            control.clear()
            return json_response(control.state()), "all faults cleared"
        body = await read_body(request)
        payload = loads(body) if body.strip() else {}
        applied = await FaultRequest.parse(payload).apply(control)
        return json_response(applied), "applied " + orjson.dumps(applied).decode()

    async def endpoint(request: Request) -> Response:
        try:
            response, summary = await apply(request)
        except ApiError as exc:
            response, summary = exc.response(), f"refused: {exc.code} {exc.message}"
        return answer(request, response, summary)

    return [Route("/_emulator/faults", endpoint, methods=["GET", "POST", "DELETE"])]
