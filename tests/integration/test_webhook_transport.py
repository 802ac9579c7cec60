"""The WebHook transport against the emulator: handshake, Verification-Token, persist-then-200,
renewal before expiry, re-creation after blacklisting and deletion, reuse at restart."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from transport_kit import EmuApi, MemoryKv, RecordingSink, inject, login_api, running

from rcinbox.clock import SYSTEM
from rcinbox.emulator.runner import Running
from rcinbox.service.web import build_app, serve
from rcinbox.transports import instant_sms_filters
from rcinbox.transports.webhook import ACCEPT_BUDGET, WebhookEndpoint
from rcinbox.transports.webhook_subscription import (
    SUBSCRIPTION_KEY,
    TOKEN_KEY,
    WebhookPolicy,
    WebhookSubscription,
    seconds_left,
)
from rcinbox.wire import Subscription

PATH = "/rc/webhook"
ALEX = "+16505550100"


@dataclass
class Hook:
    emu: Running
    http: httpx.AsyncClient
    api: EmuApi
    sink: RecordingSink
    kv: MemoryKv
    address: str
    endpoint: WebhookEndpoint
    manager: WebhookSubscription

    def new_manager(self, policy: WebhookPolicy | None = None) -> WebhookSubscription:
        """A second process's manager over the same kv (a restart)."""
        return WebhookSubscription(
            self.api, self.kv, self.address, instant_sms_filters(), policy=policy or self.manager.policy
        )

    async def subscriptions(self) -> tuple[Subscription, ...]:
        return await self.api.list_subscriptions()


def envelope(event: str = "/restapi/v1.0/account/1/extension/101/message-store/instant?type=SMS") -> bytes:
    body = {
        "id": "3062991514017",
        "to": [{"phoneNumber": ALEX, "target": True}],
        "from": {"phoneNumber": "+14155550100", "name": "Charlie Williams"},
        "type": "SMS",
        "creationTime": "2026-11-27T16:00:00.000Z",
        "direction": "Inbound",
        "subject": "hello",
        "conversation": {"id": "1"},
    }
    return json.dumps({"uuid": "1", "event": event, "subscriptionId": "s", "body": body}).encode()


@pytest.fixture
async def hook(emu: Running, http: httpx.AsyncClient) -> AsyncIterator[Hook]:
    api = await login_api(http, emu)
    sink, kv = RecordingSink(), MemoryKv()
    holder: list[WebhookSubscription] = []
    endpoint = WebhookEndpoint(sink, lambda: holder[0].tokens())
    app = build_app([], [endpoint.route(PATH)])
    async with serve(app, "127.0.0.1", 0) as listening:
        address = listening.url + PATH
        policy = WebhookPolicy(check_interval=0.2)
        manager = WebhookSubscription(api, kv, address, instant_sms_filters(), policy=policy)
        holder.append(manager)
        await manager.load()
        yield Hook(emu, http, api, sink, kv, address, endpoint, manager)


async def post(hook: Hook, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.post(hook.address, content=body, headers=headers)


async def test_handshake_echoes_the_token_in_a_small_answer(hook: Hook) -> None:
    response = await post(hook, b"", {"Validation-Token": "abc123"})
    assert response.status_code == 200
    assert response.headers["Validation-Token"] == "abc123"
    assert response.content == b""
    raw = sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + len("HTTP/1.1 200 OK\r\n") + 2
    assert raw <= 1024


async def test_created_subscription_passes_the_emulator_handshake_and_delivers(hook: Hook) -> None:
    info = await hook.manager.ensure()
    assert info.status == "Active"
    assert info.address == hook.address
    assert hook.kv.data[SUBSCRIPTION_KEY] == info.id
    notified = await inject(hook.http, ALEX, "are you there?")
    assert notified["notified"] >= 1
    message = await hook.sink.next()
    assert (message.text, message.source, message.sender.phone_number) == (
        "are you there?",
        "webhook",
        "+14155550100",
    )


async def test_wrong_or_missing_verification_token_is_refused_and_nothing_stored(hook: Hook) -> None:
    wrong = await post(hook, envelope(), {"Verification-Token": "not-the-token"})
    missing = await post(hook, envelope(), {})
    assert (wrong.status_code, wrong.json()) == (403, {"error": "wrong Verification-Token"})
    assert (missing.status_code, missing.json()) == (401, {"error": "missing Verification-Token"})
    assert not hook.sink.entered.is_set()


async def test_junk_body_is_400_and_nothing_stored(hook: Hook) -> None:
    token = {"Verification-Token": hook.manager.tokens()[0]}
    not_json = await post(hook, b"{nope", token)
    not_envelope = await post(hook, b"[1,2]", token)
    bad_message = await post(hook, envelope().replace(b'"id": "3062991514017"', b'"id": null'), token)
    assert [r.status_code for r in (not_json, not_envelope, bad_message)] == [400, 400, 400]
    assert not_json.json() == {"error": "not a notification"}
    assert not hook.sink.entered.is_set()


async def test_other_events_are_acknowledged_and_ignored(hook: Hook) -> None:
    token = {"Verification-Token": hook.manager.tokens()[0]}
    reminder = await post(hook, envelope("/restapi/v1.0/subscription/~?threshold=60&interval=30"), token)
    assert (reminder.status_code, reminder.content) == (200, b"")
    assert not hook.sink.entered.is_set()


async def test_200_only_after_the_sink_stored_the_message(hook: Hook) -> None:
    hook.sink.gate.clear()
    token = {"Verification-Token": hook.manager.tokens()[0]}
    answer = asyncio.create_task(post(hook, envelope(), token))
    async with asyncio.timeout(5):
        await hook.sink.entered.wait()
    # The store is still at work: no answer may come meanwhile (an early 200 arrives in ms).
    done, _ = await asyncio.wait({answer}, timeout=0.5)
    assert not done and hook.sink.messages == []
    hook.sink.gate.set()
    response = await answer
    assert response.status_code == 200
    assert [m.message_id for m in hook.sink.messages] == ["3062991514017"]


async def test_a_sink_that_cannot_store_gets_503_not_200(hook: Hook) -> None:
    hook.sink.failures = 1
    response = await post(hook, envelope(), {"Verification-Token": hook.manager.tokens()[0]})
    assert (response.status_code, response.json()) == (503, {"error": "not stored"})


async def test_renewed_before_expiry(hook: Hook) -> None:
    policy = WebhookPolicy(expires_in=3, renew_fraction=0.5, check_interval=10)
    manager = hook.new_manager(policy)
    await manager.load()
    async with running(manager.run):
        first = await manager.board.wait_until(lambda s: s.subscription_active, within=5)
        renewed = await manager.board.wait_until(lambda s: s.renewals >= 1, within=5)
        [record] = await hook.subscriptions()
    assert renewed.subscription_id == first.subscription_id == record.id
    assert seconds_left(record, SYSTEM.now()) > 3
    assert (
        renewed.subscription_expires_at == record.expiration_time
    )  # the renewed one's, as the dashboard shows
    assert renewed.subscriptions_created == 1


async def test_recreated_after_blacklisting(hook: Hook) -> None:
    async with running(hook.manager.run):
        first = await hook.manager.board.wait_until(lambda s: s.subscription_active, within=5)
        response = await hook.http.post("/_emulator/faults", json={"blacklistWebhooks": True})
        assert response.status_code == 200, response.text
        second = await hook.manager.board.wait_until(lambda s: s.subscriptions_created == 2, within=5)
        records = await hook.subscriptions()
        await inject(hook.http, ALEX, "after blacklist")
        message = await hook.sink.next()
    assert second.subscription_id != first.subscription_id
    assert [(r.id, r.status) for r in records] == [(second.subscription_id, "Active")]
    assert message.text == "after blacklist"


async def test_recreated_after_deletion(hook: Hook) -> None:
    async with running(hook.manager.run):
        first = await hook.manager.board.wait_until(lambda s: s.subscription_active, within=5)
        assert first.subscription_id is not None
        await hook.api.delete_subscription(first.subscription_id)
        hook.manager.check_now()
        second = await hook.manager.board.wait_until(lambda s: s.subscriptions_created == 2, within=5)
    assert second.subscription_id not in (None, first.subscription_id)
    assert [r.id for r in await hook.subscriptions()] == [second.subscription_id]


async def test_restart_reuses_the_subscription_and_deletes_stale_duplicates(hook: Hook) -> None:
    first = await hook.manager.ensure()
    stale = await hook.api.create_subscription(
        instant_sms_filters(), {"transportType": "WebHook", "address": hook.address, "verificationToken": "x"}
    )
    restarted = hook.new_manager()
    await restarted.load()
    again = await restarted.ensure()
    assert again.id == first.id
    assert restarted.tokens() == hook.manager.tokens() == (hook.kv.data[TOKEN_KEY],)
    assert [r.id for r in await hook.subscriptions()] == [first.id]
    assert restarted.board.status.subscriptions_created == 0
    assert stale.id != first.id


async def test_a_new_leader_adopts_the_subscription_another_replica_created(hook: Hook) -> None:
    """Replicas: ``hook.manager`` created the shared token but another replica led first and
    subscribed; when this one leads (a term of its own, later) it keeps that subscription."""
    other = hook.new_manager()
    await other.load()
    created = await other.ensure()  # the other replica's term
    stop = asyncio.Event()
    term = asyncio.create_task(hook.manager.run(stop))
    status = await hook.manager.board.wait_until(lambda s: s.subscription_active, within=5)
    stop.set()
    await term
    assert status.subscription_id == created.id and status.subscriptions_created == 0
    assert [r.id for r in await hook.subscriptions()] == [created.id]
    replaced = await other.ensure()  # it stays the one the store names for the next leader too
    assert replaced.id == created.id


async def test_without_a_stored_token_old_subscriptions_are_replaced(hook: Hook) -> None:
    first = await hook.manager.ensure()
    hook.kv.data.clear()
    restarted = hook.new_manager()
    await restarted.load()
    again = await restarted.ensure()
    assert again.id != first.id
    assert [r.id for r in await hook.subscriptions()] == [again.id]


async def test_a_store_slower_than_the_budget_gets_503_inside_the_platforms_deadline(hook: Hook) -> None:
    """RingCentral waits 3 s for the answer: a store that hangs gets a 503 (a failed delivery it
    will retry), never a late answer and never a 200 for an unstored message."""
    assert ACCEPT_BUDGET < 3
    endpoint = WebhookEndpoint(hook.sink, hook.manager.tokens, accept_budget=0.3)
    hook.sink.gate.clear()  # the store never finishes
    async with serve(build_app([], [endpoint.route(PATH)]), "127.0.0.1", 0) as listening:
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.post(
                listening.url + PATH,
                content=envelope(),
                headers={"Verification-Token": hook.manager.tokens()[0]},
            )
        elapsed = time.monotonic() - started
    assert (response.status_code, response.json()) == (503, {"error": "not stored"})
    assert elapsed < 2.0  # the budget (0.3 s) and some slack, well inside 3 s
    assert hook.sink.messages == []
