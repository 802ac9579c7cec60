"""WebSocket session recovery (PLATFORM.md §3.3): reconnecting with a ws token (a new one, or the
one already used, within its lifetime) and ``&wsc=`` inside ``recoveryTimeout`` (180 s) keeps the
subscription and replays up to ``recoveryBufferSize`` (100) missed notifications; too late or
without a subscription is WSG-1005, another OAuth session WSG-1003, a forged ``wsc`` WSG-400."""

from __future__ import annotations

import httpx
import pytest
from emu_clocks import FakeClock
from gateway_kit import Client, closed_code, leave, publish, receive, subscribe
from support import login
from websockets.asyncio.client import connect

from rcinbox.emulator.runner import Running


@pytest.fixture
async def client(http: httpx.AsyncClient, emu: Running) -> Client:
    return Client(http, emu, await login(http, emu))


async def test_recovery_inside_the_window_replays_missed_notifications(emu: Running, client: Client) -> None:
    emu.world.limits.recovery_buffer = 2
    ws, details = await client.open()
    info = await subscribe(ws)
    wsc = details[0]["wsc"]["token"]
    (connection,) = emu.world.connections
    await connection.drop()  # as the faults API does
    assert await closed_code(ws) == 1001
    assert [publish(emu, n) for n in (1, 2, 3)] == [1, 1, 1]

    again, (meta, body) = await client.open(wsc)
    async with again:
        assert body["recoveryState"] == "Successful" and "recoveryErrorCode" not in body
        assert meta["wsc"]["token"] == wsc and meta["wsc"]["sequence"] == 5
        replayed = [await receive(again) for _ in range(2)]  # buffer of 2: the oldest was dropped
        assert [frame[1]["body"]["id"] for frame in replayed] == ["2", "3"]
        assert list(emu.world.subscriptions) == [info["id"]]
        publish(emu, 4)
        assert (await receive(again))[1]["body"] == {"id": "4"}


async def test_recovery_with_the_ws_token_already_used(emu: Running, client: Client) -> None:
    """What @rc-ex/ws (inside @ringcentral/subscriptions) does: it keeps the ws token until 0.8 ×
    ``expires_in`` and presents it again, with the wsc, on every reconnect."""
    url = await client.url()
    ws = await connect(url)
    meta, _ = await receive(ws)
    info = await subscribe(ws)
    (connection,) = emu.world.connections
    await connection.drop()
    assert await closed_code(ws) == 1001
    publish(emu, 1)
    async with connect(f"{url}&wsc={meta['wsc']['token']}") as again:
        _, body = await receive(again)
        assert body["recoveryState"] == "Successful"
        meta, envelope = await receive(again)  # the missed notification, replayed
        assert (meta["type"], envelope["subscriptionId"], envelope["body"]) == (
            "ServerNotification",
            info["id"],
            {"id": "1"},
        )


async def test_recovery_takes_over_a_half_dead_connection(emu: Running, client: Client) -> None:
    ws, details = await client.open()
    async with ws:
        info = await subscribe(ws)
        again, (_, body) = await client.open(details[0]["wsc"]["token"])
        async with again:
            assert body["recoveryState"] == "Successful"
            assert await closed_code(ws) == 1001  # the old socket is cut
            publish(emu, 7)
            meta, envelope = await receive(again)
            assert (meta["type"], envelope["subscriptionId"]) == ("ServerNotification", info["id"])
            assert len(emu.world.connections) == 1


async def test_recovery_outside_the_window_fails_1005(emu: Running, client: Client, clock: FakeClock) -> None:
    ws, details = await client.open()
    await subscribe(ws)
    await leave(emu, ws)
    clock.advance(181)
    again, (_, body) = await client.open(details[0]["wsc"]["token"])
    async with again:
        assert (body["recoveryState"], body["recoveryErrorCode"]) == ("Failed", "WSG-1005")
        assert emu.world.subscriptions == {}
        assert (await subscribe(again))["status"] == "Active"  # the socket stays usable


async def test_recovery_without_a_subscription_fails_1005(emu: Running, client: Client) -> None:
    ws, details = await client.open()
    await leave(emu, ws)
    again, (_, body) = await client.open(details[0]["wsc"]["token"])
    async with again:
        assert (body["recoveryState"], body["recoveryErrorCode"]) == ("Failed", "WSG-1005")


async def test_recovery_from_another_oauth_session_fails_1003(
    http: httpx.AsyncClient, emu: Running, client: Client
) -> None:
    ws, details = await client.open()
    info = await subscribe(ws)
    await leave(emu, ws)
    wsc = details[0]["wsc"]["token"]
    stranger = Client(http, emu, await login(http, emu))  # same user, new OAuth session
    other, (_, body) = await stranger.open(wsc)
    async with other:
        assert (body["recoveryState"], body["recoveryErrorCode"]) == ("Failed", "WSG-1003")
    owner, (_, body) = await client.open(wsc)
    async with owner:
        assert body["recoveryState"] == "Successful"
        assert list(emu.world.subscriptions) == [info["id"]]


async def test_forged_wsc_is_wsg_400_and_closes(client: Client) -> None:
    async with connect(await client.url("RTFhRG5nfEZha2U")) as ws:
        meta, body = await receive(ws)
        assert (meta["type"], meta["status"]) == ("Error", 400)
        assert body == {"errorCode": "WSG-400", "message": "Malformed WebSocket session context token"}
        assert await closed_code(ws) is not None


async def test_dropped_by_the_control_api_then_up_to_100_missed_notifications_replayed(
    http: httpx.AsyncClient, emu: Running, client: Client
) -> None:
    """The default buffer (100) over the real fault: ``POST /_emulator/faults {"dropWebSockets": true}``."""
    ws, details = await client.open()
    info = await subscribe(ws)
    dropped = await http.post("/_emulator/faults", json={"dropWebSockets": True})
    assert dropped.json() == {"dropWebSockets": 1}
    assert await closed_code(ws) == 1001
    assert sum(publish(emu, n) for n in range(1, 102)) == 101  # one more than the buffer holds

    again, (meta, body) = await client.open(details[0]["wsc"]["token"])
    async with again:
        assert (body["recoveryState"], body["recoveryBufferSize"]) == ("Successful", 100)
        replayed = [await receive(again) for _ in range(100)]
        assert [frame[1]["body"]["id"] for frame in replayed] == [str(n) for n in range(2, 102)]
        assert {frame[1]["subscriptionId"] for frame in replayed} == {info["id"]}
        sequences = [frame[0]["wsc"]["sequence"] for frame in replayed]  # numbered when published
        assert sequences == list(range(sequences[0], sequences[0] + 100))
        assert meta["wsc"]["sequence"] > sequences[-1]  # a client keeping the highest keeps the newest
        publish(emu, 102)  # live again: the next one comes straight after the replay
        assert (await receive(again))[1]["body"] == {"id": "102"}


async def test_recovery_just_inside_the_window_succeeds(
    emu: Running, client: Client, clock: FakeClock
) -> None:
    ws, details = await client.open()
    info = await subscribe(ws)
    await leave(emu, ws)
    publish(emu, 1)
    clock.advance(179)  # recoveryTimeout is 180 s
    again, (_, body) = await client.open(details[0]["wsc"]["token"])
    async with again:
        assert body["recoveryState"] == "Successful"
        assert (await receive(again))[1]["body"] == {"id": "1"}
        assert list(emu.world.subscriptions) == [info["id"]]


async def test_recovery_after_a_token_refresh_succeeds(
    http: httpx.AsyncClient, emu: Running, client: Client
) -> None:
    """A refreshed access token is the same OAuth session (PLATFORM.md §3.3, RECOVER exp. 4)."""
    ws, details = await client.open()
    info = await subscribe(ws)
    await leave(emu, ws)
    world = emu.world
    refreshed = await http.post(
        "/restapi/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": str(client.token["refresh_token"])},
        auth=(world.app.client_id, world.app.client_secret),
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["access_token"] != client.token["access_token"]
    renewed = Client(http, emu, refreshed.json())
    again, (_, body) = await renewed.open(details[0]["wsc"]["token"])
    async with again:
        assert body["recoveryState"] == "Successful"
        assert list(world.subscriptions) == [info["id"]]
