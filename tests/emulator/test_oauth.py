"""OAuth of the emulator over real HTTP: JWT login, client auth, refresh rotation and grace,
the session limit, revoke, wstoken, and 401s on API calls."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
from fake_clock import FakeClock
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from rcinbox.emulator.runner import Running
from support import login

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ME = "/restapi/v1.0/account/~/extension/~"


@pytest.fixture(autouse=True)
def roomy_auth_limit(emu: Running) -> None:
    """These tests log in more often than the Auth group's 5 per minute allows."""
    assert emu.world.ratelimiter is not None
    emu.world.ratelimiter.configure(limits={"Auth": 1000})


def client(emu: Running) -> tuple[str, str]:
    return emu.world.app.client_id, emu.world.app.client_secret


async def token_call(http: httpx.AsyncClient, emu: Running, **form: str) -> httpx.Response:
    return await http.post("/restapi/oauth/token", data=form, auth=client(emu))


async def refresh(http: httpx.AsyncClient, emu: Running, refresh_token: object) -> httpx.Response:
    return await token_call(http, emu, grant_type="refresh_token", refresh_token=str(refresh_token))


async def me(http: httpx.AsyncClient, token: object) -> httpx.Response:
    return await http.get(ME, headers={"Authorization": f"Bearer {token}"})


def oauth_error(error: str, code: str, message: str) -> dict[str, Any]:
    return {"error": error, "errors": [{"errorCode": code, "message": message}], "error_description": message}


TOKEN_NOT_FOUND_API = {
    "errorCode": "TokenInvalid",
    "message": "Token not found",
    "errors": [{"errorCode": "OAU-213", "message": "Token not found"}],
}


# --- JWT login -------------------------------------------------------------------------------


async def test_jwt_login_answers_token_info_and_the_token_works(
    http: httpx.AsyncClient, emu: Running
) -> None:
    ext = emu.world.extensions[0]
    response = await token_call(http, emu, grant_type=JWT_GRANT, assertion=ext.jwt)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    assert response.headers["cache-control"] == "no-store"
    token = response.json()
    assert set(token) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
        "scope",
        "owner_id",
        "endpoint_id",
        "session_id",
    }
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 3600
    assert token["refresh_token_expires_in"] == 604800
    assert token["owner_id"] == str(ext.id)
    assert token["scope"] == " ".join(emu.world.app.scopes)
    assert token["session_id"] in emu.world.sessions
    assert len(token["endpoint_id"]) >= 16
    answer = await me(http, token["access_token"])
    assert answer.status_code == 200
    assert answer.json()["id"] == ext.id


async def test_each_extension_logs_in_as_itself(http: httpx.AsyncClient, emu: Running) -> None:
    token = await login(http, emu, ext_index=1)
    assert token["owner_id"] == str(emu.world.extensions[1].id)
    assert (await me(http, token["access_token"])).json()["id"] == emu.world.extensions[1].id


@pytest.mark.parametrize(
    ("access_ttl", "refresh_ttl", "expected"),
    [("900", "86400", (900, 86400)), ("99999", "9999999", (3600, 2592000)), ("10", "", (600, 604800))],
)
async def test_token_lifetimes_are_honoured_within_the_documented_bounds(
    http: httpx.AsyncClient, emu: Running, access_ttl: str, refresh_ttl: str, expected: tuple[int, int]
) -> None:
    form = {"grant_type": JWT_GRANT, "assertion": emu.world.extensions[0].jwt, "access_token_ttl": access_ttl}
    if refresh_ttl:
        form["refresh_token_ttl"] = refresh_ttl
    token = (await token_call(http, emu, **form)).json()
    assert (token["expires_in"], token["refresh_token_expires_in"]) == expected


async def test_a_non_numeric_lifetime_is_an_invalid_request(http: httpx.AsyncClient, emu: Running) -> None:
    jwt = emu.world.extensions[0].jwt
    response = await token_call(http, emu, grant_type=JWT_GRANT, assertion=jwt, access_token_ttl="soon")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.json()["errors"][0]["errorCode"] == "OAU-101"


# --- bad requests to /oauth/token ------------------------------------------------------------


async def test_missing_client_auth_is_invalid_client_oau_123(http: httpx.AsyncClient, emu: Running) -> None:
    form = {"grant_type": JWT_GRANT, "assertion": emu.world.extensions[0].jwt}
    response = await http.post("/restapi/oauth/token", data=form)
    assert response.status_code == 401
    assert response.json() == oauth_error("invalid_client", "OAU-123", "Client authentication is required")


@pytest.mark.parametrize("credentials", [("wrong-id", "secret"), None])
async def test_a_wrong_client_is_invalid_client_oau_153(
    http: httpx.AsyncClient, emu: Running, credentials: tuple[str, str] | None
) -> None:
    auth = credentials or (emu.world.app.client_id, "not-the-secret")
    form = {"grant_type": JWT_GRANT, "assertion": emu.world.extensions[0].jwt}
    response = await http.post("/restapi/oauth/token", data=form, auth=auth)
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "errors": [
            {
                "errorCode": "OAU-153",
                "message": "Invalid client: ",
                "parameters": [{"parameterName": "client_id", "parameterValue": ""}],
            }
        ],
        "error_description": "Invalid client: ",
    }


async def test_garbage_basic_header_is_invalid_client(http: httpx.AsyncClient, emu: Running) -> None:
    response = await http.post(
        "/restapi/oauth/token",
        content=f"grant_type={JWT_GRANT}&assertion=x",
        headers={"Authorization": "Basic %%%not-base64", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["errorCode"] == "OAU-153"


@pytest.mark.parametrize("assertion", ["eyJ.not.a-known-jwt", "caf\u00e9-non-ascii"])
async def test_an_unknown_jwt_is_invalid_grant(http: httpx.AsyncClient, emu: Running, assertion: str) -> None:
    response = await token_call(http, emu, grant_type=JWT_GRANT, assertion=assertion)
    assert response.status_code == 400
    assert response.json() == oauth_error("invalid_grant", "OAU-140", "Invalid resource owner credentials")


async def test_a_missing_assertion_names_the_parameter(http: httpx.AsyncClient, emu: Running) -> None:
    response = await token_call(http, emu, grant_type=JWT_GRANT)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "errors": [
            {
                "errorCode": "OAU-101",
                "message": "Parameter [assertion] is invalid",
                "parameters": [{"parameterName": "assertion", "parameterValue": ""}],
            }
        ],
        "error_description": "Parameter [assertion] is invalid",
    }


@pytest.mark.parametrize("grant", ["password", "authorization_code", "client_credentials", "partner_jwt"])
async def test_a_grant_the_app_is_not_enabled_for_is_unauthorized_client(
    http: httpx.AsyncClient, emu: Running, grant: str
) -> None:
    response = await token_call(http, emu, grant_type=grant, username="+16505550100", password="x", code="c")
    assert response.status_code == 400
    message = "Unauthorized for this grant type"  # PLATFORM §1.4
    assert response.json() == oauth_error("unauthorized_client", "OAU-251", message)


async def test_an_unknown_or_missing_grant_type(http: httpx.AsyncClient, emu: Running) -> None:
    unknown = await token_call(http, emu, grant_type="urn:example:no-such-grant")
    assert unknown.status_code == 400
    assert unknown.json() == oauth_error("unsupported_grant_type", "OAU-250", "Unsupported grant type")
    missing = await token_call(http, emu, grant_type="")
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    assert missing.json()["errors"][0]["errorCode"] == "OAU-101"


async def test_a_json_body_is_415(http: httpx.AsyncClient, emu: Running) -> None:
    body = {"grant_type": JWT_GRANT, "assertion": emu.world.extensions[0].jwt}
    response = await http.post("/restapi/oauth/token", json=body, auth=client(emu))
    assert response.status_code == 415
    message = "Unsupported content-type. Accept: application/x-www-form-urlencoded"
    assert response.json() == {
        "errorCode": "CMN-415",
        "message": message,
        "errors": [{"errorCode": "CMN-415", "message": message}],
    }


async def test_a_repeated_parameter_is_oau_111(http: httpx.AsyncClient, emu: Running) -> None:
    jwt = emu.world.extensions[0].jwt
    response = await http.post(
        "/restapi/oauth/token",
        content=f"grant_type={JWT_GRANT}&assertion={jwt}&assertion={jwt}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=client(emu),
    )
    assert response.status_code == 400
    assert response.json() == oauth_error(
        "invalid_request", "OAU-111", "Request parameter duplication detected"
    )


# --- refresh ---------------------------------------------------------------------------------


async def test_refresh_rotates_both_tokens_and_kills_the_old_access_token(
    http: httpx.AsyncClient, emu: Running
) -> None:
    first = await login(http, emu)
    response = await refresh(http, emu, first["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["session_id"] == first["session_id"]
    assert second["expires_in"] == 3600
    old = await me(http, first["access_token"])
    assert old.status_code == 401
    assert old.json() == TOKEN_NOT_FOUND_API
    assert (await me(http, second["access_token"])).status_code == 200
    third = (await refresh(http, emu, second["refresh_token"])).json()
    assert third["refresh_token"] not in (first["refresh_token"], second["refresh_token"])


async def test_old_refresh_token_returns_the_same_tokens_while_the_new_access_token_is_unused(
    http: httpx.AsyncClient, emu: Running, clock: FakeClock
) -> None:
    first = await login(http, emu)
    second = (await refresh(http, emu, first["refresh_token"])).json()
    clock.advance(59 * 60)
    again = await refresh(http, emu, first["refresh_token"])
    assert again.status_code == 200
    assert again.json()["access_token"] == second["access_token"]
    assert again.json()["refresh_token"] == second["refresh_token"]
    assert again.json()["expires_in"] == 60
    clock.advance(61)
    late = await refresh(http, emu, first["refresh_token"])
    assert late.status_code == 400
    assert late.json() == oauth_error("invalid_grant", "OAU-210", "Token expired")
    assert (await refresh(http, emu, second["refresh_token"])).status_code == 200


async def test_old_refresh_token_dies_10_seconds_after_the_new_access_token_is_used(
    http: httpx.AsyncClient, emu: Running, clock: FakeClock
) -> None:
    first = await login(http, emu)
    second = (await refresh(http, emu, first["refresh_token"])).json()
    clock.advance(5)
    assert (await me(http, second["access_token"])).status_code == 200
    clock.advance(9)
    inside = await refresh(http, emu, first["refresh_token"])
    assert inside.status_code == 200
    assert inside.json()["access_token"] == second["access_token"]
    clock.advance(2)
    after = await refresh(http, emu, first["refresh_token"])
    assert after.status_code == 400
    assert after.json() == oauth_error("invalid_grant", "OAU-210", "Token expired")


async def test_expired_refresh_token_is_oau_210_and_expired_access_token_is_oau_128(
    http: httpx.AsyncClient, emu: Running, clock: FakeClock
) -> None:
    token = await login(http, emu)
    clock.advance(3600)
    expired = await me(http, token["access_token"])
    assert expired.status_code == 401
    assert expired.json() == {
        "errorCode": "TokenInvalid",
        "message": "Access token is expired",
        "errors": [{"errorCode": "OAU-128", "message": "Access token is expired"}],
    }
    clock.advance(604800 - 3600)
    response = await refresh(http, emu, token["refresh_token"])
    assert response.status_code == 400
    assert response.json() == oauth_error("invalid_grant", "OAU-210", "Token expired")


async def test_unknown_refresh_token_is_invalid_grant(http: httpx.AsyncClient, emu: Running) -> None:
    response = await refresh(http, emu, "U1BCMDFUMDRKV1MwMXnever-issued")
    assert response.status_code == 400
    assert response.json() == oauth_error("invalid_grant", "OAU-213", "Token not found")
    missing = await token_call(http, emu, grant_type="refresh_token")
    assert missing.json()["errors"][0]["parameters"] == [
        {"parameterName": "refresh_token", "parameterValue": ""}
    ]


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


async def test_wstoken_returns_a_single_use_token_for_the_gateway(
    http: httpx.AsyncClient, emu: Running
) -> None:
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


async def test_a_ws_token_opens_the_gateway_once(http: httpx.AsyncClient, emu: Running) -> None:
    token = await login(http, emu)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    ws = (await http.post("/restapi/oauth/wstoken", headers=headers)).json()
    url = f"{ws['uri']}?access_token={ws['ws_access_token']}"
    async with connect(url, open_timeout=5) as first:
        details = orjson.loads(await asyncio.wait_for(first.recv(), 5))
        assert details[0]["type"] == "ConnectionDetails"
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
