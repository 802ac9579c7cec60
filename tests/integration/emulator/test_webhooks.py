"""WebHook transport against a real local receiver: the Validation-Token handshake and its
failures, Verification-Token and headers on every delivery, ordering, and blacklisting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from emu_clocks import FakeClock
from support import login
from webhook_receiver import Receiver, free_port, running_receiver

from rcinbox.emulator.push import events
from rcinbox.emulator.runner import Running
from rcinbox.emulator.world import Limits, iso

INSTANT = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"


@pytest.fixture
def limits() -> Limits:
    return Limits(validation_timeout=1.0)  # keeps the slow-receiver cases fast


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


async def subscribe(
    http: httpx.AsyncClient, emu: Running, address: str, token: str | None = "s3cr3t"
) -> httpx.Response:
    login_body = await login(http, emu)
    mode: dict[str, str] = {"transportType": "WebHook", "address": address}
    if token is not None:
        mode["verificationToken"] = token
    return await http.post(
        "/restapi/v1.0/subscription",
        json={"eventFilters": [INSTANT], "deliveryMode": mode},
        headers={"Authorization": f"Bearer {login_body['access_token']}"},
    )


def instant_event(emu: Running) -> str:
    ext = emu.world.extensions[0].id
    return f"/restapi/v1.0/account/{emu.world.account_id}/extension/{ext}/message-store/instant?type=SMS"


def publish(emu: Running, n: int) -> int:
    ext = emu.world.extensions[0].id
    return events.publish(emu.world, ext, instant_event(emu), {"id": str(n), "subject": f"hello {n}"})


async def settle(emu: Running) -> None:
    await emu.emulator.webhooks.idle()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("none", (400, "SUB-520", "Validation Token is not returned")),
        ("wrong", (400, "SUB-520", "Validation Token is not returned")),
        ("big", (400, "SUB-525", "WebHook server response is invalid")),
        ("status", (400, "SUB-525", "WebHook server response is invalid")),
        ("slow", (400, "CMN-101", "Parameter [deliveryMode.address] value is invalid.")),
    ],
)
async def test_handshake_failures(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver, mode: str, expected: tuple[int, str, str]
) -> None:
    receiver.validation, receiver.validation_status = mode, 404
    response = await subscribe(http, emu, receiver.url)
    body = response.json()
    assert (response.status_code, body["errorCode"], body["message"]) == expected
    assert body["errors"][0]["errorCode"] == expected[1]
    assert len(receiver.validations) == 1
    assert emu.world.subscriptions == {}


async def test_unreachable_address_is_cmn_101(http: httpx.AsyncClient, emu: Running) -> None:
    address = f"http://127.0.0.1:{free_port()}/nobody-listens"
    response = await subscribe(http, emu, address)
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "CMN-101",
        "message": "Parameter [deliveryMode.address] value is invalid.",
        "errors": [
            {
                "errorCode": "CMN-101",
                "message": "Parameter [deliveryMode.address] value is invalid.",
                "parameterName": "deliveryMode.address",
                "parameterValue": address,
            }
        ],
        "parameterName": "deliveryMode.address",
    }


async def test_handshake_request_carries_a_fresh_token(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver
) -> None:
    assert (await subscribe(http, emu, receiver.url)).status_code == 200
    assert (await subscribe(http, emu, receiver.url)).status_code == 200
    first, second = (v.headers for v in receiver.validations)
    assert first["validation-token"] != second["validation-token"]
    assert first["user-agent"] == "RingCentral-Webhook/8.3"
    assert "verification-token" not in first


async def test_every_delivery_has_verification_token_headers_and_order(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver
) -> None:
    sub = (await subscribe(http, emu, receiver.url)).json()
    assert [publish(emu, n) for n in range(5)] == [1] * 5
    deliveries = await receiver.wait_deliveries(5)
    for delivery in deliveries:
        assert delivery.headers["verification-token"] == "s3cr3t"
        assert delivery.headers["content-type"] == "application/json; charset=UTF-8"
        assert delivery.headers["user-agent"] == "RingCentral-Webhook/8.3"
        assert delivery.headers["accept"] == "application/json"
    bodies = [d.json() for d in deliveries]
    assert [b["body"] for b in bodies] == [{"id": str(n), "subject": f"hello {n}"} for n in range(5)]
    first = bodies[0]
    assert list(first) == ["uuid", "event", "timestamp", "subscriptionId", "ownerId", "body"]
    assert first["event"] == instant_event(emu)
    assert first["subscriptionId"] == sub["id"]
    assert first["ownerId"] == str(emu.world.extensions[0].id)
    assert len({b["uuid"] for b in bodies}) == 5


async def test_no_verification_token_header_when_none_was_given(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver
) -> None:
    assert (await subscribe(http, emu, receiver.url, token=None)).status_code == 200
    publish(emu, 1)
    (delivery,) = await receiver.wait_deliveries(1)
    assert "verification-token" not in delivery.headers


async def test_blacklisted_after_sustained_failures(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver, clock: FakeClock
) -> None:
    sub = (await subscribe(http, emu, receiver.url)).json()
    auth = {"Authorization": f"Bearer {(await login(http, emu))['access_token']}"}
    receiver.delivery_status = 500

    publish(emu, 1)
    await settle(emu)
    clock.advance(599)  # a streak shorter than limits.blacklist_after (600 s)
    publish(emu, 2)
    await settle(emu)
    still = (await http.get(f"/restapi/v1.0/subscription/{sub['id']}", headers=auth)).json()
    assert still["status"] == "Active" and "blacklistedData" not in still

    clock.advance(2)
    publish(emu, 3)
    await settle(emu)
    shown = (await http.get(f"/restapi/v1.0/subscription/{sub['id']}", headers=auth)).json()
    assert shown["status"] == "Blacklisted"
    assert shown["blacklistedData"] == {
        "blacklistedAt": iso(clock.now),
        "reason": "Webhook responses with code: [500], reason: [Internal Server Error]",
    }
    assert publish(emu, 4) == 0  # delivery stops
    await settle(emu)
    assert len(receiver.deliveries) == 3


async def test_a_success_ends_the_failure_streak(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver, clock: FakeClock
) -> None:
    sub = (await subscribe(http, emu, receiver.url)).json()
    for status in (503, 200, 503):
        receiver.delivery_status = status
        publish(emu, status)
        await settle(emu)
        clock.advance(400)
    assert emu.world.subscriptions[sub["id"]].status == "Active"


async def test_timeouts_and_refusals_blacklist_with_io_reasons(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver
) -> None:
    emu.world.limits.blacklist_after = 0
    slow = (await subscribe(http, emu, receiver.url)).json()
    receiver.delivery_delay = 3.0  # beyond the (shrunk) 1 s answer deadline
    publish(emu, 1)
    await settle(emu)
    timed_out = emu.world.subscriptions[slow["id"]]
    assert timed_out.status == "Blacklisted"
    assert timed_out.blacklist_reason == "I/O operation is failed. Details: [Read timed out]"

    async with running_receiver() as short_lived:
        gone = (await subscribe(http, emu, short_lived.url)).json()
    publish(emu, 2)  # the receiver has stopped listening
    await settle(emu)
    refused = emu.world.subscriptions[gone["id"]]
    assert refused.status == "Blacklisted"
    assert refused.blacklist_reason == "I/O operation is failed. Details: [Connection refused]"


async def test_expired_subscriptions_are_not_notified(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver, clock: FakeClock
) -> None:
    assert (await subscribe(http, emu, receiver.url)).status_code == 200
    clock.advance(604801)
    assert publish(emu, 1) == 0
    await settle(emu)
    assert receiver.deliveries == []


async def test_webhook_delay_fault_postpones_each_delivery(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver
) -> None:
    assert (await subscribe(http, emu, receiver.url)).status_code == 200
    applied = await http.post("/_emulator/faults", json={"webhookDelayMs": 300})
    assert applied.json() == {"webhookDelayMs": 300}
    loop = asyncio.get_running_loop()
    started = loop.time()
    publish(emu, 1)
    publish(emu, 2)
    deliveries = await receiver.wait_deliveries(2)
    assert loop.time() - started >= 0.6  # one delay per delivery, in order
    assert [d.json()["body"]["id"] for d in deliveries] == ["1", "2"]


async def test_renewal_reminders(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver, clock: FakeClock
) -> None:
    reminder = "/restapi/v1.0/subscription/~?threshold=50&interval=20"
    auth = {"Authorization": f"Bearer {(await login(http, emu))['access_token']}"}
    created = await http.post(
        "/restapi/v1.0/subscription",
        json={
            "eventFilters": [INSTANT, reminder],
            "deliveryMode": {"transportType": "WebHook", "address": receiver.url},
            "expiresIn": 100,
        },
        headers=auth,
    )
    assert created.status_code == 200, created.text
    assert events.remind(emu.world, emu.emulator.webhooks.reminded) == 0  # 99 s left > threshold

    clock.advance(60)
    (first,) = await receiver.wait_deliveries(1)  # sent by the emulator's reminder job
    assert first.json()["event"] == reminder
    assert first.json()["body"] == {"expiresIn": 39}
    clock.advance(10)
    assert events.remind(emu.world, emu.emulator.webhooks.reminded) == 0  # within the interval
    clock.advance(15)
    second = (await receiver.wait_deliveries(2))[1]
    assert second.json()["body"] == {"expiresIn": 14}

    assert (
        await http.post(f"/restapi/v1.0/subscription/{created.json()['id']}/renew", headers=auth)
    ).is_success
    clock.advance(30)
    assert events.remind(emu.world, emu.emulator.webhooks.reminded) == 0  # renewed: far from expiry


async def test_injected_inbound_sms_reaches_the_webhook(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver
) -> None:
    token = await login(http, emu)
    store = "/restapi/v1.0/account/~/extension/~/message-store?direction=Inbound"
    created = await http.post(
        "/restapi/v1.0/subscription",
        json={
            "eventFilters": [INSTANT, store],
            "deliveryMode": {"transportType": "WebHook", "address": receiver.url, "verificationToken": "v"},
        },
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert created.status_code == 200, created.text
    number = emu.world.extensions[0].phone_numbers[0].phone_number
    injected = await http.post(
        "/_emulator/inbound", json={"from": "+16505550199", "to": number, "text": "Hi"}
    )
    assert injected.status_code == 200, injected.text
    assert injected.json()["notified"] == 2  # the instant event and the message-store event
    instant, change = (d.json() for d in await receiver.wait_deliveries(2))
    filters = created.json()["eventFilters"]
    assert (instant["event"], change["event"]) == (filters[0], filters[1])
    assert instant["body"]["subject"] == "Hi" and instant["body"]["direction"] == "Inbound"
    assert change["body"]["changes"][0]["newMessageIds"] == [int(injected.json()["messageId"])]
