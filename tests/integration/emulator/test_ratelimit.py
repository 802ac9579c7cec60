"""Rate limits over real HTTP: X-Rate-Limit-* headers, 429 + Retry-After + CMN-301, the penalty
that restarts on every throttled request, the sliding window, and per-user/per-group counting."""

from __future__ import annotations

import httpx
from emu_clocks import FakeClock
from support import login

from rcinbox.emulator.ratelimit import RateLimiter
from rcinbox.emulator.runner import Running

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ME = "/restapi/v1.0/account/~/extension/~"
RATE_EXCEEDED = {
    "errorCode": "CMN-301",
    "message": "Request rate exceeded",
    "errors": [{"errorCode": "CMN-301", "message": "Request rate exceeded"}],
}


def limiter(emu: Running) -> RateLimiter:
    return emu.emulator.ratelimiter


async def token_request(http: httpx.AsyncClient, emu: Running) -> httpx.Response:
    world = emu.world
    return await http.post(
        "/restapi/oauth/token",
        data={"grant_type": JWT_GRANT, "assertion": world.extensions[0].jwt},
        auth=(world.app.client_id, world.app.client_secret),
    )


async def me(http: httpx.AsyncClient, token: dict[str, object]) -> httpx.Response:
    return await http.get(ME, headers={"Authorization": f"Bearer {token['access_token']}"})


def rate_headers(response: httpx.Response) -> tuple[str, str, str, str]:
    h = response.headers
    return (
        h["X-Rate-Limit-Group"],
        h["X-Rate-Limit-Limit"],
        h["X-Rate-Limit-Remaining"],
        h["X-Rate-Limit-Window"],
    )


async def test_every_answer_carries_the_rate_limit_headers_of_its_group(
    http: httpx.AsyncClient, emu: Running
) -> None:
    login_answer = await token_request(http, emu)
    assert rate_headers(login_answer) == ("auth", "5", "4", "60")
    token = login_answer.json()
    assert rate_headers(await me(http, token)) == ("light", "50", "49", "60")
    contacts = await http.get(
        "/restapi/v1.0/account/~/extension/~/address-book/contact",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert rate_headers(contacts) == ("heavy", "10", "9", "60")
    sms = await http.post(
        "/restapi/v1.0/account/~/extension/~/sms",
        json={"to": [{"phoneNumber": "+14155550100"}], "text": "no sender"},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert sms.status_code == 400  # a refused request counts and carries the headers too
    assert rate_headers(sms) == ("medium", "40", "39", "60")
    refused = await http.post("/restapi/oauth/token", json={}, auth=("a", "b"))
    assert refused.status_code == 415
    assert rate_headers(refused)[0] == "auth"


async def test_going_over_the_limit_is_429_with_retry_after_and_cmn_301(
    http: httpx.AsyncClient, emu: Running
) -> None:
    for remaining in range(4, -1, -1):
        answer = await token_request(http, emu)
        assert answer.status_code == 200
        assert answer.headers["X-Rate-Limit-Remaining"] == str(remaining)
    throttled = await token_request(http, emu)
    assert throttled.status_code == 429
    assert throttled.json() == RATE_EXCEEDED
    assert throttled.headers["Retry-After"] == "60"
    assert rate_headers(throttled) == ("auth", "5", "0", "60")
    assert throttled.headers["content-type"] == "application/json;charset=UTF-8"


async def test_each_throttled_request_restarts_the_penalty(
    http: httpx.AsyncClient, emu: Running, clock: FakeClock
) -> None:
    for _ in range(5):
        assert (await token_request(http, emu)).status_code == 200
    assert (await token_request(http, emu)).status_code == 429
    clock.advance(59)
    assert (await token_request(http, emu)).status_code == 429  # restarts the 60 s penalty
    clock.advance(59)
    assert (await token_request(http, emu)).status_code == 429  # 118 s after the first 429: still trapped
    clock.advance(59)
    assert (await token_request(http, emu)).status_code == 429
    clock.advance(60.5)
    free = await token_request(http, emu)
    assert free.status_code == 200
    assert free.headers["X-Rate-Limit-Remaining"] == "4"


async def test_the_window_slides(http: httpx.AsyncClient, emu: Running, clock: FakeClock) -> None:
    for _ in range(3):
        assert (await token_request(http, emu)).status_code == 200
    clock.advance(30)
    for _ in range(2):
        assert (await token_request(http, emu)).status_code == 200
    clock.advance(31)  # the first three fell out of the window, the last two did not
    answer = await token_request(http, emu)
    assert answer.status_code == 200
    assert answer.headers["X-Rate-Limit-Remaining"] == "2"


async def test_limits_are_per_user_and_per_group(http: httpx.AsyncClient, emu: Running) -> None:
    limiter(emu).configure(limits={"Light": 2})
    alex, blair = await login(http, emu, 0), await login(http, emu, 1)
    assert [(await me(http, alex)).status_code for _ in range(3)] == [200, 200, 429]
    assert (await me(http, blair)).status_code == 200
    contacts = await http.get(
        "/restapi/v1.0/account/~/extension/~/address-book/contact",
        headers={"Authorization": f"Bearer {alex['access_token']}"},
    )
    assert contacts.status_code == 200
    assert contacts.headers["X-Rate-Limit-Group"] == "heavy"


async def test_settings_change_at_runtime_and_reset_restores_the_defaults(
    http: httpx.AsyncClient, emu: Running
) -> None:
    limiter(emu).configure(limits={"Auth": 1}, window=30, penalty=5)
    first = await token_request(http, emu)
    assert rate_headers(first) == ("auth", "1", "0", "30")
    second = await token_request(http, emu)
    assert second.status_code == 429
    assert second.headers["Retry-After"] == "5"
    limiter(emu).reset()
    again = await token_request(http, emu)
    assert again.status_code == 200
    assert rate_headers(again) == ("auth", "5", "4", "60")


async def test_disabled_limits_send_no_headers_and_never_throttle(
    http: httpx.AsyncClient, emu: Running
) -> None:
    limiter(emu).configure(enabled=False)
    answers = [await token_request(http, emu) for _ in range(8)]
    assert [a.status_code for a in answers] == [200] * 8
    assert "X-Rate-Limit-Group" not in answers[-1].headers
