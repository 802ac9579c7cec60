"""A Blacklisted WebHook subscription is noticed within about a minute (issue 6). RingCentral
delivers nothing to it, and only a read of its status shows it: the upkeep reads the status once a
minute (``GET /subscription/{id}``, one request of the Light group's 50 a minute), deletes it,
creates a new one, and the message-sync catch-up that follows answers what was texted meanwhile.

Time runs ``SCALE`` times faster for the upkeep here: the check interval is the shipped default
divided by ``SCALE``, so the shipped cadence is what is tested, in seconds instead of minutes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from service_kit import always_away, emulator_webhook_settings
from transport_kit import inject

from rcinbox.emulator.runner import Running
from rcinbox.service.app import Service, Tuning
from rcinbox.service.catchup import CatchUpPolicy
from rcinbox.store import ArchiveEntry
from rcinbox.transports.webhook_subscription import WebhookPolicy

ALEX, CHARLIE = "+16505550100", "+14155550100"
REPLY = "Auto-reply: I'm away for a while."
SCALE = 20  # one minute of the upkeep's time is 3 s here
SETTLE = 3.0  # seconds to re-create the subscription, sync, decide and send, on a busy test machine


def test_the_status_is_read_every_minute_within_the_light_budget() -> None:
    interval = Tuning().webhook.check_interval  # what `rcinbox run` uses
    assert interval <= 60  # a Blacklisted subscription is noticed within a minute
    assert 60 / interval <= 2  # at most 2 of the Light group's 50 requests a minute


async def test_a_blacklisted_subscription_is_replaced_and_the_text_answered_within_a_minute(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    minute = 60 / SCALE
    tuning = Tuning(
        webhook=WebhookPolicy(check_interval=WebhookPolicy().check_interval / SCALE),
        catchup=CatchUpPolicy(interval=3600),  # no safety-net round: only the re-subscription
    )
    settings = emulator_webhook_settings(emu, tmp_path, always_away(REPLY, audience="everyone"))
    async with Service.open(settings, tuning) as service:
        stop = asyncio.Event()
        runner = asyncio.create_task(service.run(stop), name="test.service")
        try:
            before = await service.board.wait_until(lambda s: s.ready, within=10)
            await first_catch_up(service)  # what comes next, only the new subscription can fetch
            response = await http.post("/_emulator/faults", json={"blacklistWebhooks": True})
            assert response.status_code == 200, response.text
            sent = await inject(http, ALEX, "Anyone there?", sender=CHARLIE)  # delivered to no one
            found = await replied(service, sent["messageId"], within=minute + SETTLE)
            after = service.board.status
        finally:
            stop.set()
            await asyncio.wait_for(runner, 10)
    assert (found.action, found.reason, found.reply_state) == ("reply", "replied", "sent")
    assert after.subscription_id != before.subscription_id and after.subscriptions_created == 2
    statuses = {s.id: s.status for s in emu.world.subscriptions.values()}
    assert statuses == {after.subscription_id: "Active"}  # the Blacklisted one was deleted
    outbound = (await http.get("/_emulator/outbound")).json()["records"]
    assert [(r["from"], r["text"]) for r in outbound if CHARLIE in r["to"]] == [(ALEX, REPLY)]


async def replied(service: Service, message_id: str, within: float) -> ArchiveEntry:
    """The archived message once its reply was sent (waits on the outbox's changes)."""
    found: list[ArchiveEntry] = []

    async def sent() -> bool:
        found[:] = [e for e in await service.store.recent() if e.message_id == message_id]
        return bool(found) and found[0].reply_state == "sent"

    await service.outbox.changes.until(sent, within)
    return found[0]


async def first_catch_up(service: Service) -> None:
    async def done() -> bool:
        return service.catchup.changes.count >= 1

    await service.catchup.changes.until(done, 10)
