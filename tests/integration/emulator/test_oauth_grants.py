"""OAuth grants over real HTTP: the JWT login and its TokenInfo, client authentication and bad
token requests, and the refresh grant (rotation, the old refresh token's grace, expiry)."""

from __future__ import annotations

import httpx
import pytest
from emu_clocks import FakeClock
from oauth_kit import (
    JWT_GRANT,
    TOKEN_NOT_FOUND_API,
    client,
    me,
    oauth_error,
    refresh,
    roomy_auth_limit,
    token_call,
)
from support import login

from rcinbox.emulator.runner import Running


@pytest.fixture(autouse=True)
def roomy_auth(emu: Running) -> None:
    roomy_auth_limit(emu)


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
