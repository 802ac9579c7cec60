"""The emulator ingests at least 1,000 injected inbound messages per second (issue 2).

The emulator runs as its own process, as a user runs it (``python -m rcinbox emulator --port 0
--log-level WARNING``: default data and limits, no per-request log lines), so the measuring client
does not share its event loop or its core. The client is a
minimal HTTP/1.1 writer over several keep-alive connections (not the bottleneck: a few
microseconds per request). Two cases, each the median of a few rounds: nobody listening, and one
WebSocket subscriber to the instant SMS filter that must receive every message before the
round's clock stops.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import orjson
import pytest
from tour_io import gateway

pytestmark = pytest.mark.slow

MESSAGES = 1000  # per round
ROUNDS = 3
CONNECTIONS = 8
REQUIRED = 1000.0  # messages per second
INSTANT = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"


@dataclass(frozen=True)
class Served:
    url: str
    host: str
    port: int


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rcinbox",
        "emulator",
        "--port",
        "0",
        "--log-level",
        "WARNING",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        found = re.search(r"http://([\d.]+):(\d+)", line.decode())
        if found is None:
            rest = await asyncio.wait_for(process.stdout.read(), 20)
            raise AssertionError(f"the emulator did not start:\n{(line + rest).decode()[-3000:]}")
        yield Served(found.group(0), found.group(1), int(found.group(2)))
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 10)


def inbound_bodies(count: int, to: str, round_no: int) -> list[bytes]:
    return [
        orjson.dumps({"from": f"+1415{round_no:03d}{i:04d}", "to": to, "text": f"Load {round_no}/{i}"})
        for i in range(count)
    ]


async def post_all(served: Served, path: str, bodies: list[bytes]) -> None:
    """POST every body over ``CONNECTIONS`` keep-alive connections; every answer must be 200."""
    pending = iter(bodies)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(served.host, served.port)
        try:
            for body in pending:
                head = (
                    f"POST {path} HTTP/1.1\r\nHost: {served.host}:{served.port}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                writer.write(head.encode() + body)
                headers = await reader.readuntil(b"\r\n\r\n")
                status = int(headers.split(b" ", 2)[1])
                length = re.search(rb"(?i)content-length:\s*(\d+)", headers)
                answer = await reader.readexactly(int(length.group(1)) if length else 0)
                assert status == 200, answer[:300]
        finally:
            writer.close()
            await writer.wait_closed()

    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))


async def own_number_and_token(served: Served) -> tuple[str, str]:
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        state = (await http.get("/_emulator/state")).json()
        ext = state["extensions"][0]
        token = await http.post(
            "/restapi/oauth/token",
            data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": ext["jwt"]},
            auth=(state["app"]["clientId"], state["app"]["clientSecret"]),
        )
        assert token.status_code == 200, token.text
        number = ext["phoneNumbers"][0]
        return (number["phoneNumber"] if isinstance(number, dict) else number), token.json()["access_token"]


async def test_inbound_injection_rate_without_subscribers(served: Served) -> None:
    own, _ = await own_number_and_token(served)
    rates = []
    for round_no in range(ROUNDS):
        bodies = inbound_bodies(MESSAGES, own, round_no)
        started = time.perf_counter()
        await post_all(served, "/_emulator/inbound", bodies)
        rates.append(MESSAGES / (time.perf_counter() - started))
    rate = statistics.median(rates)
    rounds = [round(r) for r in rates]
    print(f"\ninbound injection, no subscriber: {rate:,.0f} msg/s (rounds: {rounds})")
    assert rate >= REQUIRED


async def test_inbound_injection_rate_with_a_websocket_subscriber(served: Served) -> None:
    own, access = await own_number_and_token(served)
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as http:
        ws_token = (
            await http.post("/restapi/oauth/wstoken", headers={"Authorization": f"Bearer {access}"})
        ).json()
    async with gateway(ws_token["uri"], ws_token["ws_access_token"]) as ws:
        subscribe = {"eventFilters": [INSTANT], "deliveryMode": {"transportType": "WebSocket"}}
        status, _ = await ws.request("POST", "/restapi/v1.0/subscription", subscribe)
        assert status == 200
        rates = []
        for round_no in range(ROUNDS):
            bodies = inbound_bodies(MESSAGES, own, 100 + round_no)
            started = time.perf_counter()
            await post_all(served, "/_emulator/inbound", bodies)
            received = await ws.collect(MESSAGES)
            rates.append(MESSAGES / (time.perf_counter() - started))
            texts = {envelope["body"]["subject"] for envelope in received}
            assert len(texts) == MESSAGES  # every message, once
    rate = statistics.median(rates)
    rounds = [round(r) for r in rates]
    print(f"\ninbound injection, one WebSocket subscriber: {rate:,.0f} msg/s (rounds: {rounds})")
    assert rate >= REQUIRED
