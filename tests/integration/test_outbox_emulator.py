"""The outbox against the emulator: restarted with a reply left in "sending", it sends it exactly
once whether or not the first attempt reached the platform (the scripted cases: tests/unit/test_outbox.py).
On PostgreSQL the restarted process is a replica like any other: the claim is the dead one's
(its heartbeat gone), ended by the new one's membership (replicas never take each other's rows
in flight at start)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from outbox_kit import FAST, TEXT, queue_reply, run_until
from pipeline_fakes import OWNER, emulator_client

from rcinbox.emulator.runner import Running
from rcinbox.platform import Pacer
from rcinbox.service.membership import Membership
from rcinbox.service.outbox import Outbox
from rcinbox.store import Store


async def outbound(http: httpx.AsyncClient) -> list[tuple[str, list[str], str]]:
    records = (await http.get("/_emulator/outbound")).json()["records"]
    return [(r["from"], r["to"], r["text"]) for r in records]


@pytest.mark.parametrize("reached_platform", [True, False])
async def test_restart_with_a_row_in_sending_against_the_emulator(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path, store_url: str, reached_platform: bool
) -> None:
    ext = str(emu.world.extensions[0].id)
    async with await Store.open(store_url) as store, emulator_client(emu, tmp_path) as client:
        await client.send_sms(OWNER, "+14155550100", "Running late, see you at 3")  # typed by the owner
        row = await queue_reply(store, "11", ext=ext, to="+14155550100")
        claimant = "dead0000" if store.shared else None  # a replica's claim on PostgreSQL
        assert await store.outbox.claim(row.id, claimant=claimant) is not None  # committed: sending
        if reached_platform:
            await client.send_sms(OWNER, "+14155550100", TEXT)  # the API call went through...
        # ...and the process died before recording it
    async with await Store.open(store_url) as store, emulator_client(emu, tmp_path) as client:
        outbox = Outbox(store, client, options=FAST)
        member = Membership(store, [Pacer()], every=0.1, within=1.0, orphans=outbox.wake)
        stop = asyncio.Event()
        beating = asyncio.create_task(member.run(stop))  # on SQLite: idle beats, nothing to end
        try:
            await run_until(outbox, store, row, "sent")
        finally:
            stop.set()
            await beating
        final = await store.outbox.get(row.id)
    assert await outbound(http) == [
        (OWNER, ["+14155550100"], "Running late, see you at 3"),
        (OWNER, ["+14155550100"], TEXT),
    ]
    records = (await http.get("/_emulator/outbound")).json()["records"]
    assert final is not None and final.platform_message_id == str(records[-1]["id"])
