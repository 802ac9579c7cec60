"""One round trip through a whole service: ``exercise`` waits until the service is ready, has
Charlie text Alex at the emulator and checks the auto-reply that went out and the archived row.
``settings_for`` and ``TUNING`` (fast reconnects and checks) make the service it is given."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from service_kit import always_away, emulator_settings
from support import outbound_to
from transport_kit import inject

from rcinbox.emulator.runner import Running
from rcinbox.service.app import Service, Tuning
from rcinbox.settings import Settings
from rcinbox.store import ArchiveEntry
from rcinbox.transports.webhook_subscription import WebhookPolicy
from rcinbox.transports.websocket import ReconnectPolicy

ALEX, CHARLIE = "+16505550100", "+14155550100"
RULES = always_away("Auto-reply: Hi {first_name}, I'm away for a while.")
TUNING = Tuning(
    websocket=ReconnectPolicy(base_delay=0.05, max_delay=0.2, jitter=0.0),
    webhook=WebhookPolicy(check_interval=0.5),
    rules_check_interval=0.1,
)


def settings_for(emu: Running, tmp_path: Path, **changes: Any) -> Settings:
    return emulator_settings(emu, tmp_path, RULES, **changes)


async def archived(service: Service, within: float = 10) -> ArchiveEntry:
    async with asyncio.timeout(within):
        while True:
            entries = await service.store.recent()
            if entries and entries[0].reply_state == "sent":
                return entries[0]
            await asyncio.sleep(0.05)


async def exercise(
    service: Service, emu: Running, emu_http: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    stop = asyncio.Event()
    runner = asyncio.create_task(service.run(stop), name="test.service")
    try:
        await service.board.wait_until(lambda s: s.ready, within=10)
        ready = await client.get(service.http.url + "/readyz")
        assert (ready.status_code, ready.json()) == (200, {"ready": True})
        await inject(emu_http, ALEX, "Are you in the office tomorrow?", sender=CHARLIE)
        [reply] = await outbound_to(emu, emu_http, CHARLIE)
        entry = await archived(service)
    finally:
        stop.set()
        await asyncio.wait_for(runner, 10)
    assert reply["from"] == ALEX
    assert reply["text"] == "Auto-reply: Hi Charlie, I'm away for a while."
    assert (entry.sender, entry.text, entry.action, entry.reason) == (
        CHARLIE,
        "Are you in the office tomorrow?",
        "reply",
        "replied",
    )
