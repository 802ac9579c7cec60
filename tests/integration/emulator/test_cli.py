"""`rcinbox emulator` as a user runs it: its switches change what the served emulator does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from emulator_process import command, served
from webhook_receiver import running_receiver
from websockets.asyncio.client import ClientConnection, connect

INSTANT = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ME = "/restapi/v1.0/account/~/extension/~"
CUSTOM_DATA = """
[account]
id = 1234567

[[extensions]]
id = 777001
extensionNumber = "201"
name = "Robin Custom"
jwt = "custom-jwt-robin-201"
superAdmin = true
phoneNumbers = [{ phoneNumber = "+15105550201", primary = true }]
contacts = [{ firstName = "Sam", mobilePhone = "+15105550999" }]
"""


@pytest.fixture
async def served_without_limits() -> AsyncIterator[str]:
    async with served("--no-rate-limits", "--ws-subscription-id-header") as url:
        yield url


async def login(http: httpx.AsyncClient, index: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    state: dict[str, Any] = (await http.get("/_emulator/state")).json()
    form = {"grant_type": JWT_GRANT, "assertion": state["extensions"][index]["jwt"]}
    auth = (state["app"]["clientId"], state["app"]["clientSecret"])
    answer = await http.post("/restapi/oauth/token", data=form, auth=auth)
    assert answer.status_code == 200, answer.text
    return state, answer.json()


async def open_socket(http: httpx.AsyncClient, access: str) -> tuple[ClientConnection, list[Any]]:
    ws = (await http.post("/restapi/oauth/wstoken", headers={"Authorization": f"Bearer {access}"})).json()
    socket = await connect(f"{ws['uri']}?access_token={ws['ws_access_token']}", open_timeout=5)
    details: list[Any] = orjson.loads(await asyncio.wait_for(socket.recv(), 5))
    return socket, details


async def subscribe_socket(socket: ClientConnection) -> list[Any]:
    meta = {
        "type": "ClientRequest",
        "messageId": "m-1",
        "method": "POST",
        "path": "/restapi/v1.0/subscription",
    }
    body = {"eventFilters": [INSTANT], "deliveryMode": {"transportType": "WebSocket"}}
    await socket.send(orjson.dumps([meta, body]).decode())
    answer: list[Any] = orjson.loads(await asyncio.wait_for(socket.recv(), 5))
    return answer


async def test_switches_turn_off_rate_limits_and_restore_the_2021_header(served_without_limits: str) -> None:
    async with httpx.AsyncClient(base_url=served_without_limits, timeout=10) as http:
        state = (await http.get("/_emulator/state")).json()
        form = {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": state["extensions"][0]["jwt"],
        }
        auth = (state["app"]["clientId"], state["app"]["clientSecret"])
        answers = [await http.post("/restapi/oauth/token", data=form, auth=auth) for _ in range(7)]
        assert [a.status_code for a in answers] == [200] * 7  # Auth group is 5/min when limits are on
        assert "X-Rate-Limit-Group" not in answers[-1].headers
        assert (await http.delete("/_emulator/faults")).status_code == 200  # back to start-up numbers
        again = [await http.post("/restapi/oauth/token", data=form, auth=auth) for _ in range(6)]
        assert [a.status_code for a in again] == [200] * 6
        socket, _ = await open_socket(http, again[-1].json()["access_token"])
    async with socket:
        answer = await subscribe_socket(socket)
    assert answer[0]["status"] == 200
    assert answer[0]["headers"]["WSG-SubscriptionId"] == answer[1]["id"]


async def test_ttl_recovery_and_data_flags(tmp_path: Path) -> None:
    data = tmp_path / "account.toml"
    data.write_text(CUSTOM_DATA)
    flags = ("--access-ttl", "700", "--refresh-ttl", "5000", "--recovery-timeout", "42", "--data", str(data))
    async with served(*flags) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        state, token = await login(http)
        assert state["account"] == {"id": 1234567}
        [robin] = state["extensions"]
        assert (robin["id"], robin["name"], robin["extensionNumber"]) == (777001, "Robin Custom", "201")
        assert robin["phoneNumbers"] == ["+15105550201"]
        assert robin["contacts"][0]["firstName"] == "Sam"
        assert (token["expires_in"], token["refresh_token_expires_in"]) == (700, 5000)
        assert token["owner_id"] == "777001"
        socket, details = await open_socket(http, token["access_token"])
        await socket.close()
    assert details[1]["recoveryTimeout"] == 42


VALID = '[[extensions]]\nid = 1\nextensionNumber = "1"\nname = "A"\njwt = "jwt-of-a-1"\n'


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (VALID.replace("jwt-of-a-1", "j"), "extensions.0.jwt: String should have at least 8 characters"),
        (
            VALID + 'phoneNumbers = [{ phoneNumber = "+1650555\u00b2100" }]',
            "extensions.0.phoneNumbers.0.phoneNumber: ",
        ),
        ('colour = "red"\n' + VALID, "colour: Extra inputs are not permitted"),
        (VALID + VALID, "extension ids must be unique"),
        ("this is not toml", ""),
        ('[account]\ncompanyNumbers = ["6505550000"]\n' + VALID, "account.companyNumbers: "),
    ],
    ids=["short-jwt", "unicode-digit-number", "unknown-key", "duplicate-id", "not-toml", "company-number"],
)
async def test_a_bad_data_file_exits_2_naming_file_and_field(
    tmp_path: Path, content: str, reason: str
) -> None:
    data = tmp_path / "bad.toml"
    data.write_text(content)
    process = await asyncio.create_subprocess_exec(
        *command("--data", str(data)), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2, (out, err)
    message = err.decode().strip()
    assert message.startswith(f"error: {data}: {reason}"), message
    assert "Traceback" not in message


async def test_latency_delays_rest_answers_and_both_notification_transports() -> None:
    latency = 0.25
    async with (
        served("--latency-ms", "250") as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
        running_receiver() as receiver,
    ):
        state, token = await login(http)
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        started = time.perf_counter()
        assert (await http.get(ME, headers=bearer)).status_code == 200
        assert time.perf_counter() - started >= latency
        socket, _ = await open_socket(http, token["access_token"])
        async with socket:
            assert (await subscribe_socket(socket))[0]["status"] == 200
            mode = {"transportType": "WebHook", "address": receiver.url}
            hook = await http.post(
                "/restapi/v1.0/subscription",
                json={"eventFilters": [INSTANT], "deliveryMode": mode},
                headers=bearer,
            )
            assert hook.status_code == 200, hook.text
            to = state["extensions"][0]["phoneNumbers"][0]
            started = time.perf_counter()
            injected = await http.post(
                "/_emulator/inbound", json={"from": "+14155550123", "to": to, "text": "hi"}
            )
            assert injected.json()["notified"] == 2

            async def by_socket() -> float:
                frame = orjson.loads(await asyncio.wait_for(socket.recv(), 5))
                assert frame[0]["type"] == "ServerNotification"
                return time.perf_counter() - started

            async def by_webhook() -> float:
                await receiver.wait_deliveries(1)
                return time.perf_counter() - started

            ws_delay, hook_delay = await asyncio.gather(by_socket(), by_webhook())
    assert ws_delay >= latency
    assert hook_delay >= latency
