"""The ``Validation-Token`` handshake at its documented edges, with the emulator's default limits:
the receiver has 3 s to answer (PLATFORM.md §2.4), and its whole answer (status line, headers and
body) may be 1024 bytes, not one more. The receiver is a raw TCP server, so every byte of its
answer is known."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from support import login

from rcinbox.emulator.runner import Running

INSTANT = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"
Answer = Callable[[bytes], bytes]  # the Validation-Token sent -> the raw HTTP answer


@contextlib.asynccontextmanager
async def raw_receiver(answer: Answer, delay: float = 0.0) -> AsyncIterator[str]:
    """A loopback HTTP peer that answers each request with ``answer(token)``, after ``delay`` s."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            found = re.search(rb"(?im)^validation-token:\s*(\S+)\r$", head)
            await asyncio.sleep(delay)
            writer.write(answer(found.group(1) if found else b""))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the emulator gave up waiting: that is the point of the slow cases
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/hook"


def answer_of_size(total: int) -> Answer:
    """A 200 echoing the token whose status line, headers and body add up to ``total`` bytes."""

    def answer(token: bytes) -> bytes:
        body_size = 0
        while True:
            head = (
                b"HTTP/1.1 200 OK\r\nValidation-Token: " + token + b"\r\n"
                b"Content-Type: application/json\r\nContent-Length: " + str(body_size).encode() + b"\r\n\r\n"
            )
            if len(head) + body_size == total:
                return head + b" " * body_size
            body_size = total - len(head)

    return answer


def echo(token: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nValidation-Token: " + token + b"\r\nContent-Length: 0\r\n\r\n"


async def bearer(http: httpx.AsyncClient, emu: Running) -> dict[str, str]:
    token = await login(http, emu)
    return {"Authorization": f"Bearer {token['access_token']}"}


async def create(http: httpx.AsyncClient, auth: dict[str, str], address: str) -> httpx.Response:
    return await http.post(
        "/restapi/v1.0/subscription",
        json={"eventFilters": [INSTANT], "deliveryMode": {"transportType": "WebHook", "address": address}},
        headers=auth,
    )


@pytest.mark.parametrize(("total", "status"), [(1024, 200), (1025, 400)])
async def test_the_whole_answer_may_be_1024_bytes(
    http: httpx.AsyncClient, emu: Running, total: int, status: int
) -> None:
    async with raw_receiver(answer_of_size(total)) as address:
        created = await create(http, await bearer(http, emu), address)
    assert created.status_code == status, created.text
    if status != 200:
        assert created.json()["errorCode"] == "SUB-525"
        assert created.json()["message"] == "WebHook server response is invalid"


async def test_the_receiver_has_3_seconds_to_answer(http: httpx.AsyncClient, emu: Running) -> None:
    assert emu.world.limits.validation_timeout == 3.0  # the default, as documented
    auth = await bearer(http, emu)

    async def timed(delay: float) -> tuple[httpx.Response, float]:
        async with raw_receiver(echo, delay) as address:
            started = asyncio.get_running_loop().time()
            created = await create(http, auth, address)
            return created, asyncio.get_running_loop().time() - started

    (in_time, _), (late, waited) = await asyncio.gather(timed(2.5), timed(3.5))
    assert in_time.status_code == 200, in_time.text
    assert late.status_code == 400
    assert late.json()["errorCode"] == "CMN-101"
    assert late.json()["errors"][0]["parameterName"] == "deliveryMode.address"
    assert 3.0 <= waited < 3.5  # it gave up at the deadline, not when the late answer came
    assert len(emu.world.subscriptions) == 1
