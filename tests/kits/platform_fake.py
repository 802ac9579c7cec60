"""FakePlatform: a small scripted RingCentral (token endpoint + any API path) for httpx.MockTransport.

It records every request, issues rotating tokens, can hold the token endpoint on an event (to make
concurrency observable), and answers queued scripted responses per (method, path) before the
default behaviour (200 ``{"ok": true}`` for any authorised API call).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import itertools
import json
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

import httpx

from rcinbox.emulator.runner import Running
from rcinbox.platform import Credentials

SERVER = "https://platform.ringcentral.com"
CREDS = Credentials(SERVER, "fake-client-id", "fake-client-SECRET-123", "eyJfakeJWT.payload-ABCDEF.sig")
Reply = httpx.Response | Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]] | Exception


def rest_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"errorCode": code, "message": message, "errors": [{"errorCode": code, "message": message}]}
    return httpx.Response(status, json=body, headers=headers)


def oauth_error(status: int, error: str, code: str, message: str) -> httpx.Response:
    body = {"error": error, "errors": [{"errorCode": code, "message": message}], "error_description": message}
    return httpx.Response(status, json=body)


class FakePlatform:
    def __init__(self, access_ttl: int = 3600, refresh_ttl: int = 604800) -> None:
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.requests: list[httpx.Request] = []
        self.grants: list[dict[str, str]] = []
        self.scripts: dict[tuple[str, str], deque[Reply]] = defaultdict(deque)
        self.valid_access: set[str] = set()
        self.valid_refresh: set[str] = set()
        self.token_gate: asyncio.Event | None = None
        self._n = itertools.count(1)
        self._seen = asyncio.Event()

    async def until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait (event-driven, bounded) until ``predicate()`` holds after some request."""
        async with asyncio.timeout(within):
            while not predicate():
                self._seen.clear()
                await self._seen.wait()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def script(self, method: str, path: str, *replies: Reply) -> None:
        self.scripts[(method, path)].extend(replies)

    def count(self, grant_type: str) -> int:
        return sum(1 for g in self.grants if g.get("grant_type", "").endswith(grant_type))

    def api_requests(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]

    def issue(self) -> dict[str, object]:
        n = next(self._n)
        access, refresh = f"ACCESS-{n}-tok3n", f"REFRESH-{n}-tok3n"
        self.valid_access.add(access)
        self.valid_refresh.add(refresh)
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.access_ttl,
            "refresh_token": refresh,
            "refresh_token_expires_in": self.refresh_ttl,
            "scope": "SMS ReadMessages",
            "owner_id": "62264425016",
        }

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self._seen.set()
        queued = self.scripts.get((request.method, request.url.path))
        if queued:
            reply = queued.popleft()
            if isinstance(reply, Exception):
                raise reply
            if not callable(reply):
                return reply
            result = reply(request)
            return await result if inspect.isawaitable(result) else result
        if request.url.path == "/restapi/oauth/token":
            return await self._token(request)
        auth = request.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") not in self.valid_access:
            return rest_error(401, "TokenInvalid", "Token not found")
        return httpx.Response(200, json={"ok": True, "path": request.url.path})

    async def _token(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        self.grants.append(form)
        self._seen.set()
        expected = base64.b64encode(f"{CREDS.client_id}:{CREDS.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return oauth_error(401, "invalid_client", "OAU-153", "Invalid client: ")
        if self.token_gate is not None:
            await self.token_gate.wait()
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.valid_refresh:
                return oauth_error(400, "invalid_grant", "OAU-210", "Token expired")
            self.valid_refresh.discard(form["refresh_token"])
        elif form.get("assertion") != CREDS.jwt:
            return oauth_error(400, "invalid_grant", "OAU-140", "Invalid resource owner credentials")
        return httpx.Response(200, json=self.issue())

    def revoke_all(self) -> None:
        """Like the platform evicting the session (6th login, admin revoke)."""
        self.valid_access.clear()
        self.valid_refresh.clear()


def body_json(request: httpx.Request) -> object:
    return json.loads(request.content)


class CountingTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport that records (method, path, status) of every exchange."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.exchanges: list[tuple[str, str, int]] = []
        self.issued: list[str] = []  # every token the platform handed out

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.exchanges.append((request.method, request.url.path, response.status_code))
        if request.url.path.endswith("/oauth/token") and response.status_code == 200:
            raw = await response.aread()
            body = json.loads(raw)
            self.issued.extend(str(body[k]) for k in ("access_token", "refresh_token") if k in body)
            return httpx.Response(200, headers=response.headers, content=raw)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def count(self, path_suffix: str, status: int | None = None) -> int:
        return sum(
            1 for _, path, code in self.exchanges if path.endswith(path_suffix) and status in (None, code)
        )


def emu_credentials(emu: Running, ext_index: int = 0, jwt: str | None = None) -> Credentials:
    """The emulator's app and one of its users (the first, or ``ext_index``; ``jwt`` another's)."""
    world = emu.world
    return Credentials(
        emu.url, world.app.client_id, world.app.client_secret, jwt or world.extensions[ext_index].jwt
    )


def rate_headers(limit: int, remaining: int, window: int, group: str = "medium") -> dict[str, str]:
    """RingCentral's rate-limit headers of an answer."""
    return {
        "x-rate-limit-group": group,
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-window": str(window),
    }
