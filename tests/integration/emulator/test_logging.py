"""The emulator's log: one readable line per request (REST over HTTP and WebSocket, control API)
and per decision (logins, message states, opt-outs, subscriptions, webhook deliveries, WebSocket
sessions), and never a token, JWT or secret in any of them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from webhook_receiver import Receiver, running_receiver
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from rcinbox.emulator.runner import Running

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
INSTANT = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"
ALEX_MAIN = "+16505550100"
STRANGER = "+14155550199"
REQUEST_LINE = re.compile(r"^(HTTP|WS) ([A-Z]+) (/\S*) -> (\d{3})\b")


class Flow:
    """Drives the emulator like a client would, remembering every request and every secret."""

    def __init__(self, http: httpx.AsyncClient, emu: Running) -> None:
        world = emu.world
        self.http, self.emu = http, emu
        self.requests: Counter[tuple[str, str, str, int]] = Counter()
        self.secrets = [world.app.client_secret, *(ext.jwt for ext in world.extensions)]
        self.auth = (world.app.client_id, world.app.client_secret)
        self.bearer: dict[str, str] = {}
        self.wsc = ""

    async def call(self, method: str, path: str, **options: Any) -> httpx.Response:
        answer = await self.http.request(method, path, **options)
        self.requests[("HTTP", method, path.split("?")[0], answer.status_code)] += 1
        return answer

    def read_log(self, caplog: pytest.LogCaptureFixture) -> Log:
        """The emulator's lines, after checking: one line per request made, no line break, no secret."""
        lines = [r.getMessage() for r in caplog.records if r.name == "rcinbox.emulator"]
        assert all("\n" not in line for line in lines)
        seen = Counter(
            (m[1], m[2], m[3], int(m[4])) for line in lines if (m := REQUEST_LINE.match(line)) is not None
        )
        assert seen == self.requests  # exactly one line per request, control API included
        for secret in self.secrets:
            assert secret not in caplog.text
        return Log(lines)

    def keep(self, *secrets: str) -> None:
        self.secrets.extend(secrets)

    async def login(self) -> None:
        form = {"grant_type": JWT_GRANT, "assertion": self.emu.world.extensions[0].jwt}
        first = (await self.call("POST", "/restapi/oauth/token", data=form, auth=self.auth)).json()
        form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        token = (await self.call("POST", "/restapi/oauth/token", data=form, auth=self.auth)).json()
        self.keep(
            first["access_token"], first["refresh_token"], token["access_token"], token["refresh_token"]
        )
        self.bearer = {"Authorization": f"Bearer {token['access_token']}"}

    async def socket(self) -> tuple[ClientConnection, str]:
        ws = (await self.call("POST", "/restapi/oauth/wstoken", headers=self.bearer)).json()
        self.keep(ws["ws_access_token"])
        socket = await connect(f"{ws['uri']}?access_token={ws['ws_access_token']}")
        details = json.loads(await asyncio.wait_for(socket.recv(), 5))
        self.wsc = details[0]["wsc"]["token"]
        self.keep(self.wsc)
        body = {"eventFilters": [INSTANT], "deliveryMode": {"transportType": "WebSocket"}}
        meta = {
            "type": "ClientRequest",
            "messageId": "s-1",
            "method": "POST",
            "path": "/restapi/v1.0/subscription",
        }
        await socket.send(json.dumps([meta, body]))
        answer = json.loads(await asyncio.wait_for(socket.recv(), 5))
        self.requests[("WS", "POST", "/restapi/v1.0/subscription", answer[0]["status"])] += 1
        return socket, answer[1]["id"]

    async def recover(self) -> list[Any]:
        """A new ws token and the last ``wsc``: the ConnectionDetails frame of the recovery."""
        ws = (await self.call("POST", "/restapi/oauth/wstoken", headers=self.bearer)).json()
        self.keep(ws["ws_access_token"])
        url = f"{ws['uri']}?access_token={ws['ws_access_token']}&wsc={self.wsc}"
        async with connect(url) as socket:
            details: list[Any] = json.loads(await asyncio.wait_for(socket.recv(), 5))
        return details

    async def send(self, to: str) -> int:
        body = {"from": {"phoneNumber": ALEX_MAIN}, "to": [{"phoneNumber": to}], "text": "hello"}
        answer = await self.call(
            "POST", "/restapi/v1.0/account/~/extension/~/sms", json=body, headers=self.bearer
        )
        message_id: int = answer.json()["id"]
        return message_id

    async def inbound(self, sender: str, to: str, text: str) -> httpx.Response:
        return await self.call("POST", "/_emulator/inbound", json={"from": sender, "to": to, "text": text})


@dataclass(frozen=True)
class Log:
    """The emulator's log lines; calling it asserts that one of them matches ``pattern``."""

    lines: list[str]

    def __call__(self, pattern: str) -> None:
        assert any(re.search(pattern, line) for line in self.lines), (pattern, self.lines)


@pytest.fixture
def capture(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging.getLogger("rcinbox"), "propagate", True)  # even after logs.setup()
    caplog.set_level(logging.INFO, logger="rcinbox.emulator")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


async def settle(emu: Running) -> None:
    """Wait for message state changes and webhook deliveries already under way."""
    world = emu.world
    await asyncio.wait_for(asyncio.gather(*list(world.mailbox.tasks)), 5)
    await asyncio.wait_for(emu.emulator.webhooks.idle(), 5)


async def test_one_line_per_request_and_decision_and_no_secret(
    http: httpx.AsyncClient,
    emu: Running,
    receiver: Receiver,
    capture: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    flow = Flow(http, emu)
    await flow.login()
    socket, ws_sub = await flow.socket()
    await socket.send(json.dumps([{"type": "Heartbeat", "messageId": "hb-1"}]))
    await asyncio.wait_for(socket.recv(), 5)
    hook_mode = {"transportType": "WebHook", "address": receiver.url, "verificationToken": "verify-me-123456"}
    flow.keep("verify-me-123456")
    created = await flow.call(
        "POST",
        "/restapi/v1.0/subscription",
        json={"eventFilters": [INSTANT], "deliveryMode": hook_mode},
        headers=flow.bearer,
    )
    hook = created.json()["id"]
    sent = await flow.send("+14155550123")
    assert (await flow.inbound(STRANGER, ALEX_MAIN, "STOP")).status_code == 200
    refused = await flow.inbound(STRANGER, "+19995550000", "hi")
    assert refused.status_code == 404
    blocked = await flow.send(STRANGER)
    await settle(emu)
    await flow.call("POST", f"/restapi/v1.0/subscription/{hook}/renew", headers=flow.bearer)
    await flow.call("GET", "/_emulator/state")
    await flow.call("GET", "/_emulator/outbound?since=0")
    await flow.call("POST", "/_emulator/faults", json={"dropWebSockets": True, "blacklistWebhooks": True})
    await flow.call("DELETE", f"/restapi/v1.0/subscription/{hook}", headers=flow.bearer)
    await socket.close()

    logged = flow.read_log(caplog)
    assert len(logged.lines) > 40
    logged(r"^oauth: ext \d+ logged in with JWT")
    logged(r"^oauth: session \S+ of ext \d+ refreshed")
    logged(r"^WS session \S+ connected \(recovery: none\)")
    logged(r"^WS session \S+: Heartbeat")
    logged(rf"^SUBSCRIPTION {ws_sub} created: ext \d+, WebSocket")
    logged(rf"^SUBSCRIPTION {hook} created: ext \d+, WebHook, 604800 s")
    logged(r"^WEBHOOK validation of http://127\.0\.0\.1:\d+/hook passed")
    logged(rf"^MESSAGE {sent} Queued \(ext \d+, \+16505550100 -> \+14155550123\)")
    logged(rf"^MESSAGE {sent} Queued -> Sent$")
    logged(rf"^MESSAGE {sent} Sent -> Delivered$")
    logged(r"^OPT-OUT \+14155550199 texted STOP to \+16505550100")
    logged(rf"^MESSAGE {blocked} Queued -> SendingFailed \(SMS-RC-413")
    logged(r"^HTTP POST /_emulator/inbound -> 404 \(refused: CMN-102")
    logged(r"^HTTP POST /_emulator/inbound -> 200 \(message \d+, 2 notification")
    logged(r"^HTTP GET /_emulator/state -> 200 \(state shown\)")
    logged(r"^HTTP GET /_emulator/outbound -> 200 \(2 record\(s\)\)")
    logged(rf"^WEBHOOK POST http://127\.0\.0\.1:\d+/hook sub {hook} event \d+ -> 200 ok \(\d+\.\d ms\)")
    logged(rf"^SUBSCRIPTION {hook} renewed for 604800 s")
    logged(r"^WS session \S+: connection dropped by the emulator")
    logged(r"^WS session \S+ disconnected")
    logged(rf"^WEBHOOK subscription {hook} blacklisted")
    logged(rf"^SUBSCRIPTION {hook} deleted")


async def test_revocations_penalties_faults_and_recoveries_are_logged_too(
    http: httpx.AsyncClient,
    emu: Running,
    receiver: Receiver,
    capture: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    flow = Flow(http, emu)
    await flow.call("POST", "/_emulator/faults", json={"rateLimits": {"Heavy": 1, "Auth": 100}})
    await flow.login()
    socket, _ = await flow.socket()
    await flow.call("POST", "/_emulator/faults", json={"dropWebSockets": True})
    with contextlib.suppress(ConnectionClosed):
        await asyncio.wait_for(socket.recv(), 5)
    assert (await flow.recover())[1]["recoveryState"] == "Successful"
    receiver.validation = "none"
    refused = await flow.call(
        "POST",
        "/restapi/v1.0/subscription",
        json={
            "eventFilters": [INSTANT],
            "deliveryMode": {"transportType": "WebHook", "address": receiver.url},
        },
        headers=flow.bearer,
    )
    assert refused.json()["errorCode"] == "SUB-520"
    contacts = "/restapi/v1.0/account/~/extension/~/address-book/contact"
    assert [(await flow.call("GET", contacts, headers=flow.bearer)).status_code for _ in range(2)] == [
        200,
        429,
    ]
    fault = {"method": "GET", "path": "/restapi/v1.0/account/~/extension/~", "status": 503}
    await flow.call("POST", "/_emulator/faults", json={"http": [fault]})
    assert (
        await flow.call("GET", "/restapi/v1.0/account/~/extension/~", headers=flow.bearer)
    ).status_code == 503
    await flow.call("POST", "/_emulator/faults", json={"expireTokens": True})
    token = flow.bearer["Authorization"].removeprefix("Bearer ")
    await flow.call("POST", "/restapi/oauth/revoke", data={"token": token}, auth=flow.auth)
    await socket.close()
    await flow.call("POST", "/restapi/v1.0/subscription", content=b"x" * (21 * 1024 * 1024))
    async with connect(emu.url.replace("http", "ws") + "/ws?access_token=unknown") as refused_ws:
        with contextlib.suppress(ConnectionClosed):
            await asyncio.wait_for(refused_ws.recv(), 5)

    logged = flow.read_log(caplog)
    logged(r"^rate limits now \{.*'Heavy': 1")
    logged(r"^fault: dropped 1 WebSocket connection")
    logged(r"^WS session \S+ connected \(recovery: Successful\)$")
    logged(r"^WEBHOOK validation of http://127\.0\.0\.1:\d+/hook: token not echoed")
    logged(r"^HTTP POST /restapi/v1\.0/subscription -> 400 SUB-520 ")
    logged(r"^rate limit: ext:\d+:\S+ over Heavy limit 1, penalty 60 s")
    logged(r"^HTTP GET /restapi/v1\.0/account/~/extension/~/address-book/contact -> 429 CMN-301 ")
    logged(r"^fault: GET /restapi/v1\.0/account/~/extension/~ answered 503 CMN-201")
    logged(r"^fault: expired the tokens of 1 session\(s\)")
    logged(r"^oauth: session \S+ of ext \d+ revoked \(revoked by the client\)")
    logged(r"^HTTP POST /restapi/v1\.0/subscription -> 413 CMN-116 \(refused\)$")
    logged(r"^WS connection refused: missing, unknown, expired or revoked access_token$")
