"""Fakes at the transports' seams, for tests that drive a transport against the real emulator:
a recording sink, an in-memory kv, and a minimal REST adapter logged in as one extension."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from support import login

from rcinbox.emulator.runner import Running
from rcinbox.errors import error_from_response
from rcinbox.events import InboundMessage
from rcinbox.wire import Subscription, WsToken, parse_items

SUBSCRIPTION = "/restapi/v1.0/subscription"


class RecordingSink:
    """``accept()`` records each message; ``gate`` (when cleared) holds accept() open."""

    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self.arrived: asyncio.Queue[InboundMessage] = asyncio.Queue()
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()
        self.failures = 0  # accept() raises this many times first

    async def accept(self, message: InboundMessage) -> None:
        self.entered.set()
        await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise RuntimeError("store unavailable")
        self.messages.append(message)
        self.arrived.put_nowait(message)

    async def next(self, within: float = 5.0) -> InboundMessage:
        async with asyncio.timeout(within):
            return await self.arrived.get()

    def texts(self) -> list[str]:
        return [m.text for m in self.messages]


class MemoryKv:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    async def kv_get(self, key: str) -> str | None:
        return self.data.get(key)

    async def kv_put(self, key: str, value: str) -> None:
        self.data[key] = value

    async def kv_setdefault(self, key: str, value: str) -> str:
        return self.data.setdefault(key, value)


class EmuApi:
    """The REST calls the transports need, bearer-authenticated, errors typed like PlatformClient."""

    def __init__(self, http: httpx.AsyncClient, access_token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {access_token}"}
        self.ws_tokens = 0
        self.hold_ws_token = asyncio.Event()  # cleared: ws_token() waits (a controllable gap)
        self.hold_ws_token.set()

    async def _call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        response = await self.http.request(method, path, json=body, headers=self.headers)
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    async def ws_token(self) -> WsToken:
        await self.hold_ws_token.wait()
        self.ws_tokens += 1
        return WsToken.model_validate((await self._call("POST", "/restapi/oauth/wstoken")).json())

    async def create_subscription(
        self, filters: Sequence[str], delivery_mode: Mapping[str, Any], expires_in: int | None = None
    ) -> Subscription:
        body: dict[str, Any] = {"eventFilters": list(filters), "deliveryMode": dict(delivery_mode)}
        if expires_in is not None:
            body["expiresIn"] = expires_in
        return Subscription.model_validate((await self._call("POST", SUBSCRIPTION, body)).json())

    async def renew_subscription(self, sub_id: str) -> Subscription:
        return Subscription.model_validate(
            (await self._call("POST", f"{SUBSCRIPTION}/{sub_id}/renew")).json()
        )

    async def get_subscription(self, sub_id: str) -> Subscription:
        return Subscription.model_validate((await self._call("GET", f"{SUBSCRIPTION}/{sub_id}")).json())

    async def delete_subscription(self, sub_id: str) -> None:
        await self._call("DELETE", f"{SUBSCRIPTION}/{sub_id}")

    async def list_subscriptions(self) -> tuple[Subscription, ...]:
        return parse_items(Subscription, (await self._call("GET", SUBSCRIPTION)).json()["records"])


async def login_api(http: httpx.AsyncClient, emu: Running, ext_index: int = 0) -> EmuApi:
    token = await login(http, emu, ext_index)
    return EmuApi(http, str(token["access_token"]))


async def inject(
    http: httpx.AsyncClient,
    to: str,
    text: str,
    sender: str = "+14155550100",
    attachments: Sequence[tuple[str, bytes]] = (),
) -> dict[str, Any]:
    """A text (with ``attachments``: content type and bytes each) from ``sender`` at the emulator."""
    files = [
        {"contentType": kind, "contentBase64": base64.b64encode(data).decode()} for kind, data in attachments
    ]
    inbound = {"from": sender, "to": to, "text": text} | ({"attachments": files} if files else {})
    response = await http.post("/_emulator/inbound", json=inbound)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


@asynccontextmanager
async def running(coro_factory: Any) -> AsyncIterator[asyncio.Event]:
    """Run ``coro_factory(stop)`` as a named task for the block; stop it (and surface its error) after."""
    stop = asyncio.Event()
    task = asyncio.create_task(coro_factory(stop), name="test.transport")
    try:
        yield stop
    finally:
        stop.set()
        async with asyncio.timeout(10):
            await task
