"""The WebSocket transport against the emulator's gateway: subscribe, receive, heartbeat,
reconnect with session recovery (Successful and Failed), super-admin multi-extension."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from emu_clocks import FakeClock
from transport_kit import EmuApi, RecordingSink, inject, login_api, running

from rcinbox.emulator.runner import Running
from rcinbox.emulator.world import Limits
from rcinbox.transports import instant_sms_filters
from rcinbox.transports.websocket import (
    ReconnectPolicy,
    WebSocketTransport,
    Wsc,
    heartbeat_interval,
    parse_frame,
)

ALEX, BLAIR = "+16505550100", "+16505550102"
FAST = ReconnectPolicy(base_delay=0.05, max_delay=0.2, jitter=0.0, handshake_timeout=5, request_timeout=5)


@dataclass
class Ws:
    emu: Running
    http: httpx.AsyncClient
    api: EmuApi
    sink: RecordingSink

    def transport(self, *extension_ids: str) -> WebSocketTransport:
        return WebSocketTransport(self.api, self.sink, instant_sms_filters(extension_ids), policy=FAST)

    async def drop(self) -> None:
        response = await self.http.post("/_emulator/faults", json={"dropWebSockets": True})
        assert response.status_code == 200, response.text


@pytest.fixture
async def ws(emu: Running, http: httpx.AsyncClient) -> AsyncIterator[Ws]:
    yield Ws(emu, http, await login_api(http, emu), RecordingSink())


async def test_receives_an_injected_message(ws: Ws) -> None:
    transport = ws.transport()
    async with running(transport.run):
        ready = await transport.board.wait_until(lambda s: s.ready, within=5)
        await inject(ws.http, ALEX, "hello over websocket")
        message = await ws.sink.next()
    assert (message.text, message.source, message.extension_id) == (
        "hello over websocket",
        "websocket",
        str(ws.emu.world.extensions[0].id),
    )
    [subscription] = [s for s in ws.emu.world.subscriptions.values() if s.id == ready.subscription_id]
    assert ready.subscription_expires_at is not None  # the dashboard shows when it expires
    assert ready.subscription_expires_at.timestamp() == pytest.approx(subscription.expires_at, abs=0.01)
    assert transport.board.status.last_event_at is not None
    assert (transport.board.status.connects, ws.api.ws_tokens) == (1, 1)


async def test_reconnects_with_recovery_and_gets_what_was_sent_in_the_gap(ws: Ws) -> None:
    transport = ws.transport()
    async with running(transport.run):
        first = await transport.board.wait_until(lambda s: s.ready, within=5)
        ws.api.hold_ws_token.clear()  # keep the gap open until the message is in
        await ws.drop()
        await transport.board.wait_until(lambda s: not s.connected, within=5)
        await inject(ws.http, ALEX, "sent during the gap")
        ws.api.hold_ws_token.set()
        message = await ws.sink.next()
        after = await transport.board.wait_until(lambda s: s.ready, within=5)
    assert message.text == "sent during the gap"
    assert after.recovery == "Successful"
    assert after.subscription_id == first.subscription_id
    assert (after.connects, after.subscriptions_created, ws.api.ws_tokens) == (2, 1, 2)


async def test_resubscribes_when_recovery_failed_and_keeps_receiving(ws: Ws, world_clock: FakeClock) -> None:
    transport = ws.transport()
    async with running(transport.run):
        first = await transport.board.wait_until(lambda s: s.ready, within=5)
        ws.api.hold_ws_token.clear()
        await ws.drop()
        await transport.board.wait_until(lambda s: not s.connected, within=5)
        world_clock.advance(ws.emu.world.limits.recovery_timeout + 1)  # the gap outlasts the recovery window
        ws.api.hold_ws_token.set()
        after = await transport.board.wait_until(lambda s: s.ready, within=5)
        await inject(ws.http, ALEX, "after a failed recovery")
        message = await ws.sink.next()
    assert after.recovery == "Failed"
    assert after.subscription_id not in (None, first.subscription_id)
    assert after.subscriptions_created == 2
    assert message.text == "after a failed recovery"


@pytest.mark.parametrize("limits", [Limits(idle_timeout=1)])
async def test_heartbeats_keep_an_idle_connection_open(ws: Ws) -> None:
    transport = ws.transport()
    async with running(transport.run):
        await transport.board.wait_until(lambda s: s.ready, within=5)
        with pytest.raises(TimeoutError):  # three idle timeouts pass without a drop
            await transport.board.wait_until(lambda s: not s.connected, within=3)
        await inject(ws.http, ALEX, "still here")
        message = await ws.sink.next()
    assert message.text == "still here"
    assert transport.board.status.connects == 1


@pytest.mark.parametrize("limits", [Limits(absolute_timeout=1)])
async def test_absolute_timeout_error_reconnects_with_recovery(ws: Ws) -> None:
    transport = ws.transport()
    async with running(transport.run):
        first = await transport.board.wait_until(lambda s: s.ready, within=5)
        again = await transport.board.wait_until(lambda s: s.ready and s.connects == 2, within=5)
        await inject(ws.http, ALEX, "after WSG-903")
        message = await ws.sink.next()
    assert again.recovery == "Successful"
    assert again.subscription_id == first.subscription_id
    assert message.text == "after WSG-903"


async def test_an_unknown_session_context_is_dropped_and_a_fresh_session_opened(ws: Ws) -> None:
    transport = WebSocketTransport(
        ws.api, ws.sink, instant_sms_filters(), policy=FAST, resume=Wsc("never-issued", 7)
    )
    async with running(transport.run):
        status = await transport.board.wait_until(lambda s: s.ready, within=5)
        await inject(ws.http, ALEX, "fresh session")
        message = await ws.sink.next()
    assert (status.connects, status.subscriptions_created, status.recovery, ws.api.ws_tokens) == (
        1,
        1,
        None,
        2,
    )
    assert message.text == "fresh session"


async def test_super_admin_receives_two_extensions_in_one_subscription(ws: Ws) -> None:
    alex, blair = (str(ext.id) for ext in ws.emu.world.extensions[:2])
    transport = ws.transport(alex, blair)
    async with running(transport.run):
        await transport.board.wait_until(lambda s: s.ready, within=5)
        await inject(ws.http, ALEX, "for alex")
        await inject(ws.http, BLAIR, "for blair")
        got = {(await ws.sink.next()).text for _ in range(2)}
    [subscription] = ws.emu.world.subscriptions.values()
    assert got == {"for alex", "for blair"}
    assert {m.extension_id for m in ws.sink.messages} == {alex, blair}
    assert len(subscription.event_filters) == 2


async def test_a_failing_sink_gets_the_same_message_again_before_the_next(ws: Ws) -> None:
    ws.sink.failures = 2
    transport = ws.transport()
    async with running(transport.run):
        await transport.board.wait_until(lambda s: s.ready, within=5)
        await inject(ws.http, ALEX, "first")
        await inject(ws.http, ALEX, "second")
        got = [(await ws.sink.next()).text for _ in range(2)]
    assert got == ["first", "second"]
    assert transport.board.status.connects == 1


async def test_stop_is_prompt_even_while_the_sink_keeps_failing(ws: Ws) -> None:
    ws.sink.failures = 1_000_000
    slow = ReconnectPolicy(base_delay=30, max_delay=60, jitter=0.0, handshake_timeout=5, request_timeout=5)
    transport = WebSocketTransport(ws.api, ws.sink, instant_sms_filters(), policy=slow)
    started = time.monotonic()
    async with running(transport.run):
        await transport.board.wait_until(lambda s: s.ready, within=5)
        await inject(ws.http, ALEX, "never stored")
        async with asyncio.timeout(5):
            await ws.sink.entered.wait()
    assert time.monotonic() - started < 10  # not one 30 s retry delay was waited out
    assert ws.sink.messages == []


async def test_refused_subscription_is_retried_not_fatal(ws: Ws) -> None:
    api = await login_api(ws.http, ws.emu, ext_index=1)  # Blair is no super admin: SUB-405
    transport = WebSocketTransport(api, ws.sink, instant_sms_filters(["101"]), policy=FAST)
    async with running(transport.run):
        status = await transport.board.wait_until(lambda s: "SUB-" in s.reason, within=5)
    assert not status.ready
    assert "subscription refused: 403" in status.reason


def test_backoff_grows_is_capped_and_jittered() -> None:
    policy = ReconnectPolicy(base_delay=1, multiplier=2, max_delay=8, jitter=0.25)
    assert [policy.delay(n, rand=lambda: 0.5) for n in range(1, 6)] == [1, 2, 4, 8, 8]
    assert policy.delay(1, rand=lambda: 0.0) == 0.75
    assert policy.delay(1, rand=lambda: 1.0) == 1.25
    with pytest.raises(ValueError, match="jitter must be between 0 and 1"):
        ReconnectPolicy(jitter=1.5)


def test_heartbeat_interval_is_well_inside_the_idle_timeout() -> None:
    assert heartbeat_interval(1800) == 600
    assert heartbeat_interval(30) == 10
    assert heartbeat_interval(86400) == 600


def test_frames_must_be_wsg_arrays() -> None:
    assert parse_frame('[{"type":"Heartbeat","messageId":"1"}]') == (
        {"type": "Heartbeat", "messageId": "1"},
        None,
    )
    for junk in ("{}", "[]", "[1]", "nope"):
        with pytest.raises(ValueError):
            parse_frame(junk)
