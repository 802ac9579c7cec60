"""Shared helpers of the messaging tests: logged-in REST calls, event capture, bounded waiting.

:class:`Captured` plugs into ``world.deliverers`` (the seam the subscriptions module delivers
through) and records every envelope ``events.publish`` hands it, so tests see exactly what a
WebHook or WebSocket subscriber would receive, without a network hop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from support import login

from rcinbox.emulator.model import Subscription
from rcinbox.emulator.runner import Running

ME = "/restapi/v1.0/account/~/extension/~"
ALEX, BLAIR, CASEY = 0, 1, 2  # extension indexes of the default data
ALEX_MAIN, ALEX_SUPPORT, BLAIR_MAIN, CASEY_MAIN = (
    "+16505550100",
    "+16505550101",
    "+16505550102",
    "+16505550103",
)
CHARLIE = "+14155550100"  # a contact of Alex (Charlie Williams) and of Blair
STRANGER = "+14155559999"
STORE = ME + "/message-store"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\r\n" * 300


async def bearer(http: httpx.AsyncClient, emu: Running, ext_index: int = ALEX) -> dict[str, str]:
    token = await login(http, emu, ext_index)
    return {"Authorization": f"Bearer {token['access_token']}"}


def roomy_limits(emu: Running) -> None:
    """These tests call Heavy/Medium endpoints more often than RingCentral's per-minute limits."""
    emu.emulator.ratelimiter.configure(limits={"Auth": 1000, "Heavy": 1000, "Medium": 1000, "Light": 1000})


@dataclass
class Captured:
    """Envelopes delivered to test subscriptions, in order."""

    envelopes: list[dict[str, Any]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, subscription: Subscription, envelope: dict[str, Any]) -> None:
        self.envelopes.append(envelope)
        self.changed.set()

    def of(self, suffix: str) -> list[dict[str, Any]]:
        """Envelopes whose ``event`` path (query excluded) ends with ``suffix``."""
        return [e for e in self.envelopes if e["event"].split("?")[0].endswith(suffix)]

    async def wait_for(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        async def watch() -> None:
            while not condition():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(watch(), within)


def capture(emu: Running, ext_index: int, *filters: str) -> Captured:
    """A WebHook-type subscription of the extension to ``filters`` whose deliveries are captured."""
    world = emu.world
    captured = Captured()
    world.deliverers["WebHook"] = captured
    ext = world.extensions[ext_index]
    concrete = [f.replace("/account/~", f"/account/{world.account_id}") for f in filters]
    concrete = [f.replace("/extension/~", f"/extension/{ext.id}") for f in concrete]
    now = world.now()
    subscription = Subscription(
        id=world.new_uuid(),
        session_id="test",
        extension_id=ext.id,
        event_filters=concrete,
        transport="WebHook",
        created_at=now,
        expires_at=now + 3600,
        address="https://example.invalid/hook",
    )
    world.subscriptions[subscription.id] = subscription
    return captured


async def inject(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await http.post("/_emulator/inbound", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def sms(
    text: str = "Thanks, we got your message.", to: str = CHARLIE, frm: str = ALEX_MAIN
) -> dict[str, Any]:
    return {"from": {"phoneNumber": frm}, "to": [{"phoneNumber": to}], "text": text}


def form_files(body: dict[str, Any], *files: tuple[str, bytes, str]) -> list[tuple[str, Any]]:
    parts: list[tuple[str, Any]] = [("json", ("request.json", orjson.dumps(body), "application/json"))]
    return parts + [("attachment", file) for file in files]


def assert_error(response: httpx.Response, status: int, code: str, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["errorCode"] == code
    assert body["errors"][0]["errorCode"] == code
    if message is not None:
        assert body["message"] == message
        assert body["errors"][0]["message"] == message
