"""A long-running emulator does not grow without bound: sessions revoked or expired more than an
hour ago are forgotten at the next login, and idle rate-limit counters are dropped."""

from __future__ import annotations

import httpx
import pytest
from emu_clocks import FakeClock

from rcinbox.emulator.oauth import RETENTION
from rcinbox.emulator.ratelimit import RateLimiter
from rcinbox.emulator.runner import Running
from rcinbox.emulator.wire import ApiError

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ME = "/restapi/v1.0/account/~/extension/~"


def limiter(emu: Running) -> RateLimiter:
    return emu.emulator.ratelimiter


async def jwt_login(http: httpx.AsyncClient, emu: Running, **extra: str) -> dict[str, str]:
    world = emu.world
    answer = await http.post(
        "/restapi/oauth/token",
        data={"grant_type": JWT_GRANT, "assertion": world.extensions[0].jwt, **extra},
        auth=(world.app.client_id, world.app.client_secret),
    )
    assert answer.status_code == 200, answer.text
    token: dict[str, str] = answer.json()
    return token


async def test_revoked_and_expired_sessions_are_forgotten_after_an_hour(
    http: httpx.AsyncClient, emu: Running, clock: FakeClock
) -> None:
    limiter(emu).configure(enabled=False)
    world = emu.world
    revoked = [await jwt_login(http, emu) for _ in range(7)]  # the 6th and 7th revoke the two oldest
    short = await jwt_login(http, emu, refresh_token_ttl="1")
    auth = (world.app.client_id, world.app.client_secret)
    for token in revoked[2:]:
        assert (
            await http.post("/restapi/oauth/revoke", data={"token": token["access_token"]}, auth=auth)
        ).status_code == 200
    assert len(world.sessions) == 8
    clock.advance(RETENTION - 5)
    recent = await jwt_login(http, emu)
    assert len(world.sessions) == 9  # ended less than an hour ago: still known
    clock.advance(10)
    newest = await jwt_login(http, emu)
    assert set(world.sessions) == {recent["session_id"], newest["session_id"]}
    assert all(token["session_id"] not in world.sessions for token in revoked)
    assert short["session_id"] not in world.sessions  # its refresh token expired an hour ago
    forgotten = await http.get(ME, headers={"Authorization": f"Bearer {revoked[-1]['access_token']}"})
    assert (forgotten.status_code, forgotten.json()["errors"][0]["errorCode"]) == (401, "OAU-213")


def test_idle_rate_limit_counters_are_dropped(emu: Running, clock: FakeClock) -> None:
    rate = limiter(emu)
    rate.configure(limits={"Light": 1}, penalty=600)
    for n in range(100):
        rate.hit(f"ext:{n}:app", "Light")
    with pytest.raises(ApiError, match="CMN-301"):
        rate.hit("ext:0:app", "Light")  # ext 0 is now in a 600 s penalty
    assert rate.tracked == 100
    clock.advance(61)
    rate.hit("ext:new:app", "Light")
    assert rate.tracked == 2  # the penalised counter and the new one
    clock.advance(600)
    rate.hit("ext:newer:app", "Light")
    assert rate.tracked == 1
