"""`rcinbox emulator` as a user runs it: its switches change what the served emulator does."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect

INSTANT = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"


@pytest.fixture
async def served_without_limits() -> AsyncIterator[str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rcinbox",
        "emulator",
        "--port",
        "0",
        "--no-rate-limits",
        "--ws-subscription-id-header",
        "--log-level",
        "WARNING",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        found = re.search(r"http://[\d.]+:\d+", line)
        assert found, line
        yield found.group(0)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


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
        access = answers[-1].json()["access_token"]
        ws = (await http.post("/restapi/oauth/wstoken", headers={"Authorization": f"Bearer {access}"})).json()
    async with connect(f"{ws['uri']}?access_token={ws['ws_access_token']}", open_timeout=5) as socket:
        await asyncio.wait_for(socket.recv(), 5)  # ConnectionDetails
        meta = {
            "type": "ClientRequest",
            "messageId": "m-1",
            "method": "POST",
            "path": "/restapi/v1.0/subscription",
        }
        body = {"eventFilters": [INSTANT], "deliveryMode": {"transportType": "WebSocket"}}
        await socket.send(orjson.dumps([meta, body]).decode())
        answer = orjson.loads(await asyncio.wait_for(socket.recv(), 5))
    assert answer[0]["status"] == 200
    assert answer[0]["headers"]["WSG-SubscriptionId"] == answer[1]["id"]
