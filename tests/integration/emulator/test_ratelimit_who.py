"""Who a request is counted for: refused answers (401, 403) are counted and carry the headers,
and the Auth group of the token endpoint is counted per user and app, not per app."""

from __future__ import annotations

import httpx
from support import login

from rcinbox.emulator.ratelimit import RateLimiter
from rcinbox.emulator.runner import Running

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ME = "/restapi/v1.0/account/~/extension/~"


def limiter(emu: Running) -> RateLimiter:
    return emu.emulator.ratelimiter


def headers_of(answer: httpx.Response) -> tuple[int, str, str, str]:
    h = answer.headers
    return answer.status_code, h["X-Rate-Limit-Group"], h["X-Rate-Limit-Limit"], h["X-Rate-Limit-Remaining"]


async def jwt_login(http: httpx.AsyncClient, emu: Running, index: int) -> httpx.Response:
    world = emu.world
    return await http.post(
        "/restapi/oauth/token",
        data={"grant_type": JWT_GRANT, "assertion": world.extensions[index].jwt},
        auth=(world.app.client_id, world.app.client_secret),
    )


async def test_401_answers_are_counted_and_carry_the_headers(http: httpx.AsyncClient, emu: Running) -> None:
    limiter(emu).configure(limits={"Light": 3})
    bad = {"Authorization": "Bearer no-such-token"}
    first = await http.get(ME, headers=bad)
    assert headers_of(first) == (401, "light", "3", "2")
    assert first.json()["errorCode"] == "TokenInvalid"
    missing = await http.get(ME)  # no token at all: the same caller, the same counter
    assert headers_of(missing) == (401, "light", "3", "1")
    assert missing.json()["errorCode"] == "AGW-401"
    assert headers_of(await http.get(ME, headers=bad)) == (401, "light", "3", "0")
    throttled = await http.get(ME, headers=bad)
    assert (throttled.status_code, throttled.json()["errorCode"]) == (429, "CMN-301")
    assert throttled.headers["Retry-After"] == "60"


async def test_403_for_another_users_extension_is_counted_for_the_caller(
    http: httpx.AsyncClient, emu: Running
) -> None:
    limiter(emu).configure(limits={"Light": 2})
    blair = await login(http, emu, 1)  # not a super admin
    alex_id = emu.world.extensions[0].id
    other = f"/restapi/v1.0/account/~/extension/{alex_id}"
    auth = {"Authorization": f"Bearer {blair['access_token']}"}
    refused = await http.get(other, headers=auth)
    assert headers_of(refused) == (403, "light", "2", "1")
    assert refused.json()["errorCode"] == "CMN-419"
    assert headers_of(await http.get(ME, headers=auth)) == (200, "light", "2", "0")
    throttled = await http.get(other, headers=auth)
    assert (throttled.status_code, throttled.json()["errorCode"]) == (429, "CMN-301")


async def test_the_auth_group_is_counted_per_user_and_app(http: httpx.AsyncClient, emu: Running) -> None:
    alex = [await jwt_login(http, emu, 0) for _ in range(5)]
    assert [a.status_code for a in alex] == [200] * 5
    blair = await jwt_login(http, emu, 1)
    assert headers_of(blair) == (200, "auth", "5", "4")
    sixth = await jwt_login(http, emu, 0)
    assert (sixth.status_code, sixth.json()["errorCode"]) == (429, "CMN-301")
    world = emu.world
    refreshed = await http.post(  # a refresh counts for the user who owns the refresh token
        "/restapi/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": blair.json()["refresh_token"]},
        auth=(world.app.client_id, world.app.client_secret),
    )
    assert headers_of(refreshed) == (200, "auth", "5", "3")
    wstoken = await http.post(  # and so does the user's wstoken call: one Auth counter per user and app
        "/restapi/oauth/wstoken", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    )
    assert headers_of(wstoken) == (200, "auth", "5", "2")


async def test_token_calls_for_an_unknown_user_are_counted_per_app(
    http: httpx.AsyncClient, emu: Running
) -> None:
    world = emu.world
    auth = (world.app.client_id, world.app.client_secret)
    form = {"grant_type": JWT_GRANT, "assertion": "not-a-known-jwt"}
    answers = [await http.post("/restapi/oauth/token", data=form, auth=auth) for _ in range(6)]
    assert [a.status_code for a in answers] == [400] * 5 + [429]
    assert headers_of(await jwt_login(http, emu, 0)) == (200, "auth", "5", "4")
