"""Helpers shared by test folders (import as ``from support import login``)."""

from __future__ import annotations

import httpx

from rcinbox.emulator.runner import Running


async def login(http: httpx.AsyncClient, emu: Running, ext_index: int = 0) -> dict[str, object]:
    """JWT login as the n-th extension of the default data; returns the token response."""
    world = emu.world
    response = await http.post(
        "/restapi/oauth/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": world.extensions[ext_index].jwt,
        },
        auth=(world.app.client_id, world.app.client_secret),
    )
    assert response.status_code == 200, response.text
    token: dict[str, object] = response.json()
    return token
