"""Gap-free intake against the emulator: message-sync catches up what no transport delivered —
texts sent while rcinbox was down, during a WebSocket gap whose recovery Failed, while the WebHook
subscription was Blacklisted — each archived and answered exactly once; a text older than
``safety.max_age`` is archived as ``too-old`` without a reply; a refused sync token falls back to
an FSync."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from emu_clocks import ShiftedClock
from service_kit import always_away, emulator_settings, emulator_webhook_settings, rounds
from transport_kit import inject

from rcinbox.emulator.push.webhooks import Delivery
from rcinbox.emulator.runner import Running
from rcinbox.service.app import Service, Tuning
from rcinbox.service.catchup import TOKEN_KEY, CatchUpPolicy
from rcinbox.settings import Settings
from rcinbox.store import ArchiveEntry, Store
from rcinbox.transports.webhook_subscription import WebhookPolicy, WebhookSubscription
from rcinbox.transports.websocket import ReconnectPolicy

ALEX = "+16505550100"
CHARLIE, DANA, ERIN = "+14155550100", "+14155550177", "+14155550188"
REPLY = "Auto-reply: I'm away for a while."
RULES = always_away(REPLY, audience="everyone")
TUNING = Tuning(
    websocket=ReconnectPolicy(base_delay=0.05, max_delay=0.2, jitter=0.0),
    webhook=WebhookPolicy(check_interval=3600),  # re-checked on demand (check_now) in the tests
    rules_check_interval=0.1,
    catchup=CatchUpPolicy(interval=3600),  # no safety-net round during a test: triggers only
)


def settings_for(emu: Running, tmp_path: Path) -> Settings:
    return emulator_settings(emu, tmp_path, RULES)


def webhook_settings(emu: Running, tmp_path: Path) -> Settings:
    return emulator_webhook_settings(emu, tmp_path, RULES)


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Service]:
    """The service, subscribed, with its first catch-up round done, for the block."""
    async with Service.open(settings, TUNING) as service:
        stop = asyncio.Event()
        runner = asyncio.create_task(service.run(stop), name="test.service")
        try:
            await service.board.wait_until(lambda s: s.ready, within=10)
            await rounds(service, 1)
            yield service
        finally:
            stop.set()
            await asyncio.wait_for(runner, 10)


async def entry(service: Service, message_id: str, *, replied: bool, within: float = 10) -> ArchiveEntry:
    """The archived message once decided (and, with ``replied``, once its reply was sent)."""
    found: list[ArchiveEntry] = []

    async def ready() -> bool:
        found[:] = [e for e in await service.store.recent() if e.message_id == message_id]
        return bool(found) and found[0].action is not None and (not replied or found[0].reply_state == "sent")

    changes = service.outbox.changes if replied else service.pipeline.changes
    await changes.until(ready, within)
    return found[0]


async def sent_to(http: httpx.AsyncClient, number: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = (await http.get("/_emulator/outbound")).json()["records"]
    return [r for r in records if number in r["to"]]


async def faults(http: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await http.post("/_emulator/faults", json=body)
    assert response.status_code == 200, response.text


async def test_texts_sent_while_stopped_are_archived_and_answered_once_after_restart(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    settings = settings_for(emu, tmp_path)
    async with running(settings):
        pass  # the first start: FSync, token stored
    first = await inject(http, ALEX, "Are you there?", sender=CHARLIE)
    second = await inject(http, ALEX, "Call me back please", sender=DANA)
    async with running(settings) as service:
        one = await entry(service, first["messageId"], replied=True)
        two = await entry(service, second["messageId"], replied=True)
        report = service.catchup.reports[-1]
        stored = await service.store.find_message(one.extension_id, first["messageId"])
    assert [(e.sender, e.text, e.action, e.reason) for e in (one, two)] == [
        (CHARLIE, "Are you there?", "reply", "replied"),
        (DANA, "Call me back please", "reply", "replied"),
    ]
    assert stored is not None and stored.source == "sync"
    assert (report.sync_type, report.inbound, report.accepted, report.fell_back) == ("ISync", 2, 2, False)
    assert [(r["from"], r["text"]) for r in await sent_to(http, CHARLIE)] == [(ALEX, REPLY)]
    assert [(r["from"], r["text"]) for r in await sent_to(http, DANA)] == [(ALEX, REPLY)]


async def test_a_text_lost_in_a_failed_websocket_recovery_is_caught_up(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path, shifted_clock: ShiftedClock
) -> None:
    clock = shifted_clock
    # Login, wstoken and the refused wstokens all count in the Auth group (5 a minute by default),
    # where the client spreads its last requests 12 s apart: lifted, so no pacing wait is in the way.
    await faults(http, {"rateLimits": {"Auth": 100}})
    async with running(settings_for(emu, tmp_path)) as service:
        first = service.board.status
        # No new WebSocket token while the test holds the gap open.
        await faults(
            http,
            {"http": [{"method": "POST", "path": "/restapi/oauth/wstoken", "status": 400, "count": 10_000}]},
        )
        await faults(http, {"dropWebSockets": True})
        await service.board.wait_until(lambda s: not s.connected, within=5)
        sent = await inject(http, ALEX, "Did you get my text?", sender=CHARLIE)
        clock.offset += emu.world.limits.recovery_timeout + 1  # the gap outlasts the recovery window
        assert (await http.delete("/_emulator/faults")).status_code in (200, 204)
        after = await service.board.wait_until(lambda s: s.ready and s.subscriptions_created == 2, within=10)
        found = await entry(service, sent["messageId"], replied=True)
        stored = await service.store.find_message(found.extension_id, sent["messageId"])
    assert after.recovery == "Failed"
    assert after.subscription_id != first.subscription_id
    assert stored is not None and stored.source == "sync"
    assert (found.action, found.reason) == ("reply", "replied")
    assert [(r["from"], r["text"]) for r in await sent_to(http, CHARLIE)] == [(ALEX, REPLY)]


async def test_a_text_both_delivered_and_synced_is_archived_and_answered_once(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    async with running(settings_for(emu, tmp_path)) as service:
        sent = await inject(http, ALEX, "Lunch on Friday?", sender=CHARLIE)
        delivered = await entry(service, sent["messageId"], replied=True)
        assert await service.catchup.catch_up() is True  # the sync sees the same text again
        report = service.catchup.reports[-1]
        again = await entry(service, sent["messageId"], replied=True)
        rows = [e for e in await service.store.recent() if e.message_id == sent["messageId"]]
        stored = await service.store.find_message(delivered.extension_id, sent["messageId"])
    assert (report.sync_type, report.inbound, report.accepted) == ("ISync", 1, 0)
    assert len(rows) == 1 and again.pk == delivered.pk
    assert stored is not None and stored.source == "websocket"
    assert [(r["from"], r["text"]) for r in await sent_to(http, CHARLIE)] == [(ALEX, REPLY)]


async def test_first_start_archives_texts_sent_before_it_and_answers_none(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path, shifted_clock: ShiftedClock
) -> None:
    """The very first start finds the last day's texts: archived, never answered (a human may have
    dealt with them; rcinbox was not installed yet), however fresh (review finding 9)."""
    clock = shifted_clock
    clock.offset = -3 * 3600  # sent three hours ago
    old = await inject(http, ALEX, "Are we still on for tonight?", sender=CHARLIE)
    clock.offset = -120  # sent two minutes ago
    fresh = await inject(http, ALEX, "Running late, sorry", sender=DANA)
    clock.offset = 0
    async with running(settings_for(emu, tmp_path)) as service:
        recent = await entry(service, fresh["messageId"], replied=False)
        older = await entry(service, old["messageId"], replied=False)
        decision = await service.store.decision(older.pk)
        report = service.catchup.reports[0]
    assert (report.sync_type, report.inbound, report.accepted) == ("FSync", 2, 2)
    assert [(e.text, e.action, e.reason, e.reply_state) for e in (older, recent)] == [
        ("Are we still on for tonight?", "suppress", "before-first-start", None),
        ("Running late, sorry", "suppress", "before-first-start", None),
    ]
    assert decision is not None and decision.facts["before_first_start"] is True
    assert await sent_to(http, CHARLIE) == []
    assert await sent_to(http, DANA) == []


async def test_a_refused_sync_token_falls_back_to_a_full_sync(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    settings = settings_for(emu, tmp_path)
    ext = str(emu.world.extensions[0].id)
    settings.data_dir.mkdir(parents=True)
    async with await Store.open(settings.database_url) as store:
        await store.kv_put(TOKEN_KEY.format(ext=ext), "not-a-token-the-platform-issued")
    sent = await inject(http, ALEX, "Is the office open?", sender=ERIN)
    async with running(settings) as service:
        found = await entry(service, sent["messageId"], replied=True)
        fallback = service.catchup.reports[0]
        token = await service.store.kv_get(TOKEN_KEY.format(ext=ext))
        assert await service.catchup.catch_up() is True
        next_round = service.catchup.reports[-1]
    assert [c.extension_id for c in service.catchup.catchups] == [ext]
    assert (fallback.sync_type, fallback.fell_back, fallback.accepted) == ("FSync", True, 1)
    assert token not in (None, "not-a-token-the-platform-issued")
    assert (next_round.sync_type, next_round.fell_back) == ("ISync", False)
    assert (found.action, found.reason) == ("reply", "replied")
    assert [(r["from"], r["text"]) for r in await sent_to(http, ERIN)] == [(ALEX, REPLY)]


async def test_a_text_sent_while_the_webhook_was_blacklisted_is_caught_up(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    async with running(webhook_settings(emu, tmp_path)) as service:
        manager = service.receiver
        assert isinstance(manager, WebhookSubscription)
        first = service.board.status.subscription_id
        await faults(http, {"blacklistWebhooks": True})
        sent = await inject(http, ALEX, "Anyone there?", sender=CHARLIE)  # delivered to no one
        manager.check_now()  # the manager sees Blacklisted, deletes it and subscribes again
        after = await service.board.wait_until(lambda s: s.ready and s.subscription_id != first, within=10)
        await rounds(service, 2)
        found = await entry(service, sent["messageId"], replied=True)
        stored = await service.store.find_message(found.extension_id, sent["messageId"])
    assert after.subscriptions_created == 2
    assert stored is not None and stored.source == "sync"
    assert (found.action, found.reason) == ("reply", "replied")
    assert [(r["from"], r["text"]) for r in await sent_to(http, CHARLIE)] == [(ALEX, REPLY)]


async def test_a_text_synced_before_its_webhook_arrives_is_archived_and_answered_once(
    emu: Running, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    webhooks = emu.emulator.webhooks
    async with running(webhook_settings(emu, tmp_path)) as service:
        await faults(http, {"webhookDelayMs": 1500})  # the notification is on its way, slowly
        sent = await inject(http, ALEX, "Quick question", sender=CHARLIE)
        assert await service.catchup.catch_up() is True  # the sync gets there first
        report = service.catchup.reports[-1]
        found = await entry(service, sent["messageId"], replied=True)

        def late_delivery() -> list[Delivery]:
            return [d for d in webhooks.deliveries if d.envelope["body"].get("id") == sent["messageId"]]

        # The late notification reached the service, which stored it (a duplicate) before its 200.
        await webhooks.delivered.until(lambda: bool(late_delivery()), 10)
        rows = [e for e in await service.store.recent() if e.message_id == sent["messageId"]]
        stored = await service.store.find_message(found.extension_id, sent["messageId"])
    assert report.accepted == 1
    assert [(d.status, d.failure) for d in late_delivery()] == [(200, None)]
    assert len(rows) == 1
    assert stored is not None and stored.source == "sync"
    assert [(r["from"], r["text"]) for r in await sent_to(http, CHARLIE)] == [(ALEX, REPLY)]
