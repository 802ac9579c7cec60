"""OAuth sessions over real HTTP: the ~5-sessions-per-user limit, revoke, ws tokens for the
gateway, and 401s on API calls (no token, not a token, unknown or revoked token)."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
from emu_clocks import FakeClock
from oauth_kit import (
    ME,
    TOKEN_NOT_FOUND_API,
    client,
    me,
    refresh,
    roomy_auth_limit,
)
from support import login
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from rcinbox.emulator.runner import Running


@pytest.fixture(autouse=True)
def roomy_auth(emu: Running) -> None:
    roomy_auth_limit(emu)


# --- sessions and revoke -----------------------------------------------------------------------


async def test_a_sixth_login_revokes_the_oldest_session_of_that_user_only(
    http: httpx.AsyncClient, emu: Running
) -> None:
    other = await login(http, emu, ext_index=1)
    sessions = [await login(http, emu) for _ in range(6)]
    oldest = await me(http, sessions[0]["access_token"])
    assert oldest.status_code == 401
    assert oldest.json() == TOKEN_NOT_FOUND_API
    assert (await refresh(http, emu, sessions[0]["refresh_token"])).json()["errors"][0][
        "errorCode"
    ] == "OAU-213"
    for token in [*sessions[1:], other]:
        assert (await me(http, token["access_token"])).status_code == 200


async def test_sessions_expired_by_refresh_lifetime_do_not_count(
    http: httpx.AsyncClient, emu: Running, clock: FakeClock
) -> None:
    dead = [await login(http, emu) for _ in range(5)]
    clock.advance(604801)
    fresh = [await login(http, emu) for _ in range(5)]
    for token in fresh:
        assert (await me(http, token["access_token"])).status_code == 200
    assert (await me(http, dead[0]["access_token"])).json()["errors"][0]["errorCode"] == "OAU-128"


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
async def test_revoke_kills_the_whole_session(http: httpx.AsyncClient, emu: Running, which: str) -> None:
    token = await login(http, emu)
    response = await http.post("/restapi/oauth/revoke", data={"token": str(token[which])}, auth=client(emu))
    assert response.status_code == 200
    assert response.content == b""
    assert (await me(http, token["access_token"])).json() == TOKEN_NOT_FOUND_API
    assert (await refresh(http, emu, token["refresh_token"])).status_code == 400


async def test_revoke_takes_the_token_from_the_query_and_ignores_unknown_tokens(
    http: httpx.AsyncClient, emu: Running
) -> None:
    token = await login(http, emu)
    unknown = await http.post("/restapi/oauth/revoke", params={"token": "nope"}, auth=client(emu))
    assert unknown.status_code == 200
    assert (await me(http, token["access_token"])).status_code == 200
    query = await http.post(
        "/restapi/oauth/revoke", params={"token": str(token["access_token"])}, auth=client(emu)
    )
    assert query.status_code == 200
    assert (await me(http, token["access_token"])).status_code == 401


async def test_revoke_needs_client_auth_and_a_token(http: httpx.AsyncClient, emu: Running) -> None:
    token = await login(http, emu)
    anonymous = await http.post("/restapi/oauth/revoke", data={"token": str(token["access_token"])})
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["errorCode"] == "OAU-123"
    empty = await http.post("/restapi/oauth/revoke", auth=client(emu))
    assert empty.status_code == 400
    assert empty.json()["error_description"] == "Parameter [token] is invalid"
    assert (await me(http, token["access_token"])).status_code == 200


# --- wstoken -----------------------------------------------------------------------------------


async def test_wstoken_returns_a_token_for_the_gateway(http: httpx.AsyncClient, emu: Running) -> None:
    token = await login(http, emu)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    response = await http.post("/restapi/oauth/wstoken", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"ws_access_token", "uri", "expires_in"}
    assert body["uri"] == emu.url.replace("http://", "ws://") + "/ws"
    assert body["expires_in"] == 600
    stored = emu.world.ws_tokens[body["ws_access_token"]]
    assert stored.session_id == token["session_id"]
    assert stored.expires_at == pytest.approx(emu.world.now() + 600, abs=5)
    assert response.headers["X-Rate-Limit-Group"] == "auth"
    second = (await http.post("/restapi/oauth/wstoken", headers=headers)).json()
    assert second["ws_access_token"] != body["ws_access_token"]


async def test_a_ws_token_of_a_revoked_session_closes_4400(http: httpx.AsyncClient, emu: Running) -> None:
    token = await login(http, emu)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    ws = (await http.post("/restapi/oauth/wstoken", headers=headers)).json()
    url = f"{ws['uri']}?access_token={ws['ws_access_token']}"
    async with connect(url, open_timeout=5) as first:
        details = orjson.loads(await asyncio.wait_for(first.recv(), 5))
        assert details[0]["type"] == "ConnectionDetails"
    await http.post("/restapi/oauth/revoke", data={"token": str(token["access_token"])}, auth=client(emu))
    async with connect(url, open_timeout=5) as again:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(again.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4400


async def test_wstoken_needs_a_bearer_token(http: httpx.AsyncClient) -> None:
    response = await http.post("/restapi/oauth/wstoken")
    assert response.status_code == 401
    assert response.json()["errorCode"] == "AGW-401"


async def test_revoking_a_session_forgets_its_ws_tokens(http: httpx.AsyncClient, emu: Running) -> None:
    token = await login(http, emu)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    ws = (await http.post("/restapi/oauth/wstoken", headers=headers)).json()["ws_access_token"]
    await http.post("/restapi/oauth/revoke", data={"token": str(token["access_token"])}, auth=client(emu))
    assert ws not in emu.world.ws_tokens


# --- 401 on API calls ----------------------------------------------------------------------------


async def test_api_calls_without_a_token_are_agw_401(http: httpx.AsyncClient) -> None:
    response = await http.get(ME)
    assert response.status_code == 401
    assert response.json() == {
        "errorCode": "AGW-401",
        "message": "Authorization header is not specified",
        "errors": [{"errorCode": "AGW-401", "message": "Authorization header is not specified"}],
    }


async def test_api_calls_with_an_unknown_token_are_token_invalid(http: httpx.AsyncClient) -> None:
    response = await me(http, "U1BCMDFUMDRKV1MwMXforged")
    assert response.status_code == 401
    assert response.json() == TOKEN_NOT_FOUND_API


@pytest.mark.parametrize("garbage", ["garbage", "eyJhbGciOiJIUzI1NiJ9.not.ours", "U1B"])
async def test_api_calls_with_something_that_is_not_a_token_are_oau_149(
    http: httpx.AsyncClient, garbage: str
) -> None:
    """PLATFORM.md §1.4: a garbage bearer is TokenInvalid / OAU-149, not "Token not found"."""
    response = await me(http, garbage)
    assert response.status_code == 401
    assert response.json() == {
        "errorCode": "TokenInvalid",
        "message": "OAuth token is invalid",
        "errors": [{"errorCode": "OAU-149", "message": "OAuth token is invalid"}],
    }
