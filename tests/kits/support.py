"""Helpers shared by test folders (import as ``from support import login``)."""

from __future__ import annotations

from typing import Any

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


async def outbound_to(
    emu: Running, http: httpx.AsyncClient, number: str, within: float = 10
) -> list[dict[str, Any]]:
    """The texts the emulator received for ``number`` through ``/sms`` and ``/mms``, as
    ``GET /_emulator/outbound`` shows them, once there is one: waits on the emulator's outbound
    signal (``world.mailbox.outbound_changed``), never polls."""
    box = emu.world.mailbox
    await box.outbound_changed.until(lambda: any(number in m.to_numbers for m in box.outbound), within)
    records: list[dict[str, Any]] = (await http.get("/_emulator/outbound")).json()["records"]
    return [r for r in records if number in r["to"]]
