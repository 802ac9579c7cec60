"""What a user of the emulator in-process (tests, the demo) relies on instead of patching or polling:
the world clock given to ``serve()``, and the signals it raises when something it sent changes
(the outbound log) and when an injected fault answers."""

from __future__ import annotations

import asyncio

import httpx
from emu_clocks import FakeClock
from messaging_kit import ME, bearer, roomy_limits, sms

from rcinbox.emulator.runner import Running, serve

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


async def test_the_world_runs_on_the_clock_serve_is_given() -> None:
    clock = FakeClock(start=START)
    async with serve(clock=clock) as running, httpx.AsyncClient(base_url=running.url) as http:
        auth = await bearer(http, running)
        sent = await http.post(ME + "/sms", json=sms("at the start"), headers=auth)
        clock.advance(90)
        later = await http.post(ME + "/sms", json=sms("90 s later"), headers=auth)
        records = (await http.get("/_emulator/outbound")).json()["records"]
    assert (sent.status_code, later.status_code) == (200, 200)
    assert [r["creationTime"] for r in records] == ["2026-01-01T00:00:00.000Z", "2026-01-01T00:01:30.000Z"]


async def test_the_outbound_signal_wakes_a_waiter_at_each_step_of_a_sent_text(
    http: httpx.AsyncClient, emu: Running
) -> None:
    roomy_limits(emu)
    box = emu.world.mailbox
    before = box.outbound_changed.count
    delivered = asyncio.create_task(
        box.outbound_changed.until(lambda: [m.status for m in box.outbound] == ["Delivered"], within=5)
    )
    response = await http.post(ME + "/sms", json=sms(), headers=await bearer(http, emu))
    assert response.status_code == 200, response.text
    await delivered
    assert box.outbound_changed.count - before == 3  # Queued, Sent, Delivered
    records = (await http.get("/_emulator/outbound")).json()["records"]
    assert [(r["text"], r["messageStatus"]) for r in records] == [(sms()["text"], "Delivered")]


async def test_an_inbound_text_does_not_wake_outbound_waiters(http: httpx.AsyncClient, emu: Running) -> None:
    box = emu.world.mailbox
    before = box.outbound_changed.count
    injected = await http.post(
        "/_emulator/inbound", json={"from": "+14155550100", "to": "+16505550100", "text": "hi"}
    )
    assert injected.status_code == 200
    assert box.outbound_changed.count == before and box.outbound == []


async def test_the_faults_signal_wakes_a_waiter_when_a_fault_answers(
    http: httpx.AsyncClient, emu: Running
) -> None:
    faults = emu.emulator.faults
    added = await http.post("/_emulator/faults", json={"http": [{"path": ME, "status": 503, "count": 2}]})
    assert added.status_code == 200
    first_served = asyncio.create_task(faults.served.until(lambda: faults.http[0].remaining == 1, within=5))
    answered = await http.get(ME)
    await first_served
    assert (answered.status_code, answered.json()["errorCode"]) == (503, "CMN-201")
    assert (await http.get("/_emulator/faults")).json()["http"][0]["count"] == 1
