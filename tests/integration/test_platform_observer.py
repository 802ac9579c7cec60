"""What the platform client tells its observer (the metrics), against the emulator: the session's
login and refresh, a refused JWT, a 429 and its penalty waited out, the waits of a paced burst."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from observer_kit import Recorder
from platform_fake import emu_credentials

from rcinbox.emulator.runner import Running
from rcinbox.errors import AuthError
from rcinbox.platform import PlatformClient, RetryPolicy

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


async def faults(http: httpx.AsyncClient, body: dict[str, object]) -> None:
    response = await http.post("/_emulator/faults", json=body)
    assert response.status_code == 200, response.text


async def test_login_and_refresh_are_told(emu: Running) -> None:
    seen = Recorder()
    async with PlatformClient.open(emu_credentials(emu), upkeep=False, observer=seen) as client:
        await client.auth.refresh_now()
    assert seen.of("renewed") == [("login", "ok"), ("refresh", "ok")]


async def test_a_refused_jwt_is_told_as_a_refused_login(emu: Running) -> None:
    seen = Recorder()
    with pytest.raises(AuthError):
        async with PlatformClient.open(
            emu_credentials(emu, jwt="eyJwrong.jwt.VALUE"), upkeep=False, observer=seen
        ):
            pass
    assert seen.of("renewed") == [("login", "refused")]


async def test_a_429_is_told_with_its_group_and_the_penalty_waited(
    emu: Running, http: httpx.AsyncClient
) -> None:
    fault = {"method": "GET", "path": "/restapi/v1.0/account/*/extension/*", "status": 429, "retryAfter": 1}
    seen = Recorder()
    async with PlatformClient.open(emu_credentials(emu), policy=FAST, upkeep=False, observer=seen) as client:
        await faults(http, {"http": [fault]})
        await client.extension_info()
    assert seen.of("rate_limited") == [("Light",)]
    [(group, seconds)] = seen.of("paced")
    assert group == "Light" and 0.9 <= seconds < 5


@pytest.fixture
async def medium_limited(emu: Running, http: httpx.AsyncClient) -> AsyncIterator[None]:
    await faults(http, {"rateLimits": {"Medium": 4, "window": 1, "penalty": 3}})
    yield


async def test_a_paced_burst_tells_its_waits_and_no_429(emu: Running, medium_limited: None) -> None:
    seen = Recorder()
    async with PlatformClient.open(emu_credentials(emu), upkeep=False, observer=seen) as client:
        sends = (client.send_sms("+16505550100", "+14155550100", f"reply {n}") for n in range(8))
        await asyncio.wait_for(asyncio.gather(*sends), timeout=20)
    waits = seen.of("paced")
    assert len(waits) >= 4 and {group for group, _ in waits} == {"Medium"}
    assert max(seconds for _, seconds in waits) > 0.5  # some waited for the window to move on
    assert seen.of("rate_limited") == []
