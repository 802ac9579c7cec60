"""Helpers of the OAuth tests: token calls with the app's client credentials, API calls with a
token, and RingCentral's OAuth and API error bodies."""

from __future__ import annotations

from typing import Any

import httpx

from rcinbox.emulator.runner import Running

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ME = "/restapi/v1.0/account/~/extension/~"


def roomy_auth_limit(emu: Running) -> None:
    """OAuth tests log in more often than the Auth group's 5 per minute allows."""
    emu.emulator.ratelimiter.configure(limits={"Auth": 1000})


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
