"""The subscriptions REST API: shapes, validation, permissions, limits, expiry and renewal."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from emu_clocks import FakeClock
from support import login
from webhook_receiver import Receiver, running_receiver

from rcinbox.emulator.runner import Running
from rcinbox.emulator.world import iso

INSTANT = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"
STORE = "/restapi/v1.0/account/~/extension/~/message-store"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


async def bearer(http: httpx.AsyncClient, emu: Running, ext_index: int = 0) -> dict[str, str]:
    token = await login(http, emu, ext_index)
    return {"Authorization": f"Bearer {token['access_token']}"}


def webhook(address: str, *filters: str, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "eventFilters": list(filters or [INSTANT]),
        "deliveryMode": {"transportType": "WebHook", "address": address, "verificationToken": "s3cr3t"},
    }
    body.update(extra)
    return body


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["errorCode"], body["message"]


async def test_create_answers_subscription_info_exactly(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver
) -> None:
    auth = await bearer(http, emu)
    filters = [INSTANT, "/restapi/v1.0/account/~/extension/~/message-store"]
    response = await http.post(
        "/restapi/v1.0/subscription", json=webhook(receiver.url, *filters), headers=auth
    )
    assert response.status_code == 200, response.text
    info = response.json()
    ext = emu.world.extensions[0].id
    base = f"/restapi/v1.0/account/{emu.world.account_id}/extension/{ext}/message-store"
    assert list(info) == [
        "uri",
        "id",
        "creationTime",
        "status",
        "eventFilters",
        "expirationTime",
        "expiresIn",
        "deliveryMode",
    ]
    assert info["uri"] == f"{emu.url}/restapi/v1.0/subscription/{info['id']}"
    assert info["status"] == "Active"
    assert info["eventFilters"] == [f"{base}/instant?type=SMS", base]
    assert info["expiresIn"] == 604799
    assert ISO.match(info["creationTime"]) and ISO.match(info["expirationTime"])
    assert info["deliveryMode"] == {"transportType": "WebHook", "encryption": False, "address": receiver.url}
    assert len(receiver.validations) == 1
    assert receiver.validations[0].headers["validation-token"]


async def test_read_list_and_delete(http: httpx.AsyncClient, emu: Running, receiver: Receiver) -> None:
    auth = await bearer(http, emu)
    created = (await http.post("/restapi/v1.0/subscription", json=webhook(receiver.url), headers=auth)).json()
    one = await http.get(f"/restapi/v1.0/subscription/{created['id']}", headers=auth)
    assert one.status_code == 200
    assert one.json()["id"] == created["id"]
    assert one.json()["eventFilters"] == created["eventFilters"]
    listing = await http.get("/restapi/v1.0/subscription", headers=auth)
    assert listing.json()["uri"] == f"{emu.url}/restapi/v1.0/subscription"
    assert [r["id"] for r in listing.json()["records"]] == [created["id"]]
    deleted = await http.delete(f"/restapi/v1.0/subscription/{created['id']}", headers=auth)
    assert (deleted.status_code, deleted.content) == (204, b"")
    gone = await http.get(f"/restapi/v1.0/subscription/{created['id']}", headers=auth)
    assert error(gone) == (404, "CMN-102", "Resource for parameter [subscriptionId] is not found")
    assert (await http.get("/restapi/v1.0/subscription", headers=auth)).json()["records"] == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"deliveryMode": {"transportType": "WebHook"}},
            (400, "CMN-100", "Parameter [eventFilters] is not specified."),
        ),
        ({"eventFilters": []}, (400, "CMN-101", "Parameter [eventFilters] value is invalid.")),
        (
            {"eventFilters": ["/restapi/v1.0/account/~/extension/~/presence"]},
            (400, "SUB-508", "Invalid event filters: [/restapi/v1.0/account/~/extension/~/presence]"),
        ),
        (
            {"eventFilters": ["/restapi/v1.0/account/~/extension/~/message-store/instant"]},
            (
                400,
                "SUB-508",
                "Invalid event filters: [/restapi/v1.0/account/~/extension/~/message-store/instant]",
            ),
        ),
        (
            {"eventFilters": [f"{STORE}?direction=Sideways"]},
            (400, "SUB-508", f"Invalid event filters: [{STORE}?direction=Sideways]"),
        ),
        (
            {"eventFilters": ["/restapi/v1.0/account/1/extension/~/message-store"]},
            (403, "SUB-406", "Not allowed subscribe for events to extensions of other account"),
        ),
        (
            {"eventFilters": ["/restapi/v1.0/account/~/extension/999/message-store"]},
            (403, "SUB-408", "Not allowed subscribe for unknown user"),
        ),
        ({"eventFilters": [INSTANT]}, (400, "CMN-100", "Parameter [deliveryMode] is not specified.")),
        (
            {"eventFilters": [INSTANT], "deliveryMode": {"transportType": "WebSocket"}},
            (400, "CMN-101", "Parameter [deliveryMode.transportType] value is invalid."),
        ),
        (
            {"eventFilters": [INSTANT], "deliveryMode": {"transportType": "PubNub"}},
            (400, "CMN-101", "Parameter [deliveryMode.transportType] value is invalid."),
        ),
        (
            {"eventFilters": [INSTANT], "deliveryMode": {"transportType": "WebHook"}},
            (400, "CMN-100", "Parameter [deliveryMode.address] is not specified."),
        ),
        (
            {"eventFilters": [INSTANT], "deliveryMode": {"transportType": "WebHook", "address": "ftp://x/y"}},
            (400, "CMN-101", "Parameter [deliveryMode.address] value is invalid."),
        ),
        (
            {"eventFilters": [INSTANT], "expiresIn": 0, "deliveryMode": {"transportType": "WebHook"}},
            (400, "CMN-101", "Parameter [expiresIn] value is invalid."),
        ),
    ],
)
async def test_create_validation(
    http: httpx.AsyncClient, emu: Running, body: dict[str, object], expected: tuple[int, str, str]
) -> None:
    auth = await bearer(http, emu)
    response = await http.post("/restapi/v1.0/subscription", json=body, headers=auth)
    assert error(response) == expected
    assert emu.world.subscriptions == {}


async def test_unparseable_json_is_cmn_103(http: httpx.AsyncClient, emu: Running) -> None:
    auth = await bearer(http, emu)
    response = await http.post(
        "/restapi/v1.0/subscription",
        content=b"{not json",
        headers={**auth, "Content-Type": "application/json"},
    )
    assert error(response) == (400, "CMN-103", "JSON can't be parsed.")


async def test_renewal_reminder_filter_is_accepted_and_echoed(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver
) -> None:
    auth = await bearer(http, emu)
    reminder = "/restapi/v1.0/subscription/~?threshold=259200&interval=43200"
    response = await http.post(
        "/restapi/v1.0/subscription", json=webhook(receiver.url, INSTANT, reminder), headers=auth
    )
    assert response.status_code == 200, response.text
    assert response.json()["eventFilters"][1] == reminder
    bad = await http.post(
        "/restapi/v1.0/subscription",
        json=webhook(receiver.url, "/restapi/v1.0/subscription/~?threshold=x"),
        headers=auth,
    )
    assert error(bad) == (400, "SUB-508", "Invalid event filters: [/restapi/v1.0/subscription/~?threshold=x]")


async def test_only_a_super_admin_subscribes_to_other_extensions(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver
) -> None:
    admin, blair = emu.world.extensions[0], emu.world.extensions[1]
    assert admin.super_admin and not blair.super_admin
    other = f"/restapi/v1.0/account/~/extension/{admin.id}/message-store/instant?type=SMS"
    refused = await http.post(
        "/restapi/v1.0/subscription", json=webhook(receiver.url, other), headers=await bearer(http, emu, 1)
    )
    assert error(refused) == (403, "SUB-405", "Not allowed subscribe for messages to other extensions")
    assert receiver.validations == []

    blairs = f"/restapi/v1.0/account/~/extension/{blair.id}/message-store/instant?type=SMS"
    allowed = await http.post(
        "/restapi/v1.0/subscription", json=webhook(receiver.url, blairs), headers=await bearer(http, emu, 0)
    )
    assert allowed.status_code == 200, allowed.text
    account = emu.world.account_id
    assert allowed.json()["eventFilters"] == [
        f"/restapi/v1.0/account/{account}/extension/{blair.id}/message-store/instant?type=SMS"
    ]


async def test_thirty_subscriptions_per_user(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver
) -> None:
    auth = await bearer(http, emu)
    for _ in range(30):
        response = await http.post("/restapi/v1.0/subscription", json=webhook(receiver.url), headers=auth)
        assert response.status_code == 200, response.text
    refused = await http.post("/restapi/v1.0/subscription", json=webhook(receiver.url), headers=auth)
    assert error(refused) == (403, "SUB-505", "Subscriptions limit exceeded")
    assert len(receiver.validations) == 30  # refused before any handshake
    listing = await http.get("/restapi/v1.0/subscription", headers=auth)
    assert len(listing.json()["records"]) == 30
    another_user = await bearer(http, emu, 1)  # the limit is per user
    blairs = await http.post("/restapi/v1.0/subscription", json=webhook(receiver.url), headers=another_user)
    assert blairs.status_code == 200, blairs.text


async def test_expires_in_requested_and_clamped(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver
) -> None:
    auth = await bearer(http, emu)
    short = await http.post(
        "/restapi/v1.0/subscription", json=webhook(receiver.url, expiresIn=1200), headers=auth
    )
    assert short.json()["expiresIn"] == 1199
    huge = await http.post(
        "/restapi/v1.0/subscription", json=webhook(receiver.url, expiresIn=999_999_999), headers=auth
    )
    assert huge.json()["expiresIn"] == 315359999


async def test_expiry_renew_and_update(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver, clock: FakeClock
) -> None:
    auth = await bearer(http, emu)
    sub = (
        await http.post(
            "/restapi/v1.0/subscription", json=webhook(receiver.url, expiresIn=1200), headers=auth
        )
    ).json()
    url = f"/restapi/v1.0/subscription/{sub['id']}"
    assert sub["expirationTime"] == iso(clock.now + 1200)

    clock.advance(600)
    renewed = await http.post(f"{url}/renew", headers=auth)
    assert renewed.status_code == 200
    assert renewed.json()["expiresIn"] == 604799  # renew = default lifetime
    assert renewed.json()["expirationTime"] == iso(clock.now + 604800)

    empty_put = await http.put(url, headers=auth)
    assert empty_put.status_code == 200
    assert empty_put.json()["expiresIn"] == 604799

    filters = ["/restapi/v1.0/account/~/extension/~/message-store?type=SMS&direction=Outbound"]
    updated = await http.put(url, json={"eventFilters": filters, "expiresIn": 1000}, headers=auth)
    assert updated.status_code == 200, updated.text
    ext = emu.world.extensions[0].id
    assert updated.json()["eventFilters"] == [
        f"/restapi/v1.0/account/{emu.world.account_id}/extension/{ext}/message-store?type=SMS&direction=Outbound"
    ]
    assert updated.json()["expiresIn"] == 999

    clock.advance(1001)
    expired = await http.post(f"{url}/renew", headers=auth)
    assert expired.status_code == 404
    assert expired.json()["errorCode"] == "SUB-507"
    assert expired.json()["message"].startswith(f"Subscription with key [{sub['id']}] and assigned session [")
    assert error(await http.get(url, headers=auth))[:2] == (404, "CMN-102")
    assert (await http.get("/restapi/v1.0/subscription", headers=auth)).json()["records"] == []


async def test_someone_elses_subscription_is_not_found(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver
) -> None:
    mine = (
        await http.post(
            "/restapi/v1.0/subscription", json=webhook(receiver.url), headers=await bearer(http, emu)
        )
    ).json()
    other = await bearer(http, emu, 1)
    for method in ("GET", "DELETE", "PUT"):
        response = await http.request(method, f"/restapi/v1.0/subscription/{mine['id']}", headers=other)
        assert error(response) == (404, "CMN-102", "Resource for parameter [subscriptionId] is not found")
    assert mine["id"] in emu.world.subscriptions


async def test_renewing_a_websocket_subscription_over_http_is_refused(
    http: httpx.AsyncClient, emu: Running, receiver: Receiver
) -> None:
    auth = await bearer(http, emu)
    sub = (await http.post("/restapi/v1.0/subscription", json=webhook(receiver.url), headers=auth)).json()
    stored = emu.world.subscriptions[sub["id"]]
    stored.transport, stored.ws_session_id, stored.address = "WebSocket", "not-http", None
    for method, path in (("PUT", ""), ("POST", "/renew")):
        response = await http.request(method, f"/restapi/v1.0/subscription/{sub['id']}{path}", headers=auth)
        assert error(response) == (400, "CMN-101", "Parameter [deliveryMode.transportType] value is invalid.")
    shown = (await http.get(f"/restapi/v1.0/subscription/{sub['id']}", headers=auth)).json()
    assert shown["uri"] == f"/restapi/v1.0/subscription/{sub['id']}"
    assert shown["deliveryMode"] == {"transportType": "WebSocket", "encryption": False}


async def test_http_cannot_pose_as_a_websocket_session(http: httpx.AsyncClient, emu: Running) -> None:
    auth = await bearer(http, emu)
    body = {"eventFilters": [INSTANT], "deliveryMode": {"transportType": "WebSocket"}}
    forged = {**auth, "X-Rcinbox-Ws-Session": "00000000-0000-0000-0000-000000000000"}
    response = await http.post("/restapi/v1.0/subscription", json=body, headers=forged)
    assert error(response) == (400, "CMN-101", "Parameter [deliveryMode.transportType] value is invalid.")
    assert emu.world.subscriptions == {}
