"""The control API over real HTTP: state, inbound injection (events, stored messages, bytes) and the
outbound log, with bad input answered in RingCentral's error shape."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from messaging_kit import (
    ALEX,
    ALEX_MAIN,
    ALEX_SUPPORT,
    BLAIR,
    BLAIR_MAIN,
    CHARLIE,
    ME,
    STRANGER,
    bearer,
    capture,
    inject,
    roomy_limits,
)

from rcinbox.emulator.model import Subscription
from rcinbox.emulator.runner import Running
from rcinbox.emulator.world import iso

INSTANT = ME + "/message-store/instant?type=SMS"
STORE_EVENTS = ME + "/message-store"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00;"


async def test_state_lists_app_account_extensions_and_subscriptions(
    http: httpx.AsyncClient, emu: Running
) -> None:
    world = emu.world
    sub = Subscription(
        id="sub-1",
        session_id="s",
        extension_id=world.extensions[BLAIR].id,
        event_filters=[f"{world.account_path(world.extensions[BLAIR].id)}/message-store"],
        transport="WebSocket",
        created_at=1_700_000_000.0,
        expires_at=1_700_086_400.0,
    )
    world.subscriptions[sub.id] = sub
    response = await http.get("/_emulator/state")
    assert response.status_code == 200
    state = response.json()
    assert state["server"] == emu.url
    assert state["app"] == {
        "clientId": "rcinbox-demo-client-id",
        "clientSecret": "rcinbox-demo-client-secret",
    }
    assert state["account"] == {"id": world.account_id}
    alex = state["extensions"][0]
    assert alex["id"] == world.extensions[ALEX].id
    assert (alex["name"], alex["extensionNumber"], alex["superAdmin"]) == ("Alex Morgan", "101", True)
    assert alex["jwt"] == world.extensions[ALEX].jwt
    assert alex["phoneNumbers"] == [ALEX_MAIN, ALEX_SUPPORT]
    assert alex["contacts"][0] == {"firstName": "Charlie", "lastName": "Williams", "mobilePhone": CHARLIE}
    assert alex["contacts"][3] == {"company": "Acme Supplies", "businessPhone": "+14155550103"}
    assert [e["superAdmin"] for e in state["extensions"]] == [True, False, False]
    assert state["subscriptions"] == [
        {
            "id": "sub-1",
            "extensionId": world.extensions[BLAIR].id,
            "transportType": "WebSocket",
            "status": "Active",
            "eventFilters": sub.event_filters,
            "expirationTime": iso(1_700_086_400.0),
        }
    ]


async def test_inbound_sms_fires_the_instant_event_exactly(http: httpx.AsyncClient, emu: Running) -> None:
    world = emu.world
    alex = world.extensions[ALEX]
    events = capture(emu, ALEX, INSTANT, STORE_EVENTS)
    answer = await inject(http, **{"from": CHARLIE, "to": ALEX_MAIN, "text": "Hi, are you open today?"})
    assert answer["notified"] == 2
    message_id = answer["messageId"]
    assert isinstance(message_id, str)

    [instant] = events.of("/message-store/instant")
    assert (
        instant["event"]
        == f"/restapi/v1.0/account/{world.account_id}/extension/{alex.id}/message-store/instant?type=SMS"
    )
    assert instant["ownerId"] == str(alex.id)
    body = instant["body"]
    stored = world.messages[int(message_id)]
    assert body == {
        "id": message_id,
        "to": [{"phoneNumber": ALEX_MAIN, "name": "Alex Morgan", "target": True}],
        "from": {
            "phoneNumber": CHARLIE,
            "name": "Charlie Williams",
            "phoneNumberInfo": {
                "countryCode": "1",
                "nationalDestinationCode": "415",
                "subscriberNumber": "5550100",
            },
        },
        "type": "SMS",
        "creationTime": iso(stored.created_at),
        "lastModifiedTime": iso(stored.created_at),
        "readStatus": "Unread",
        "priority": "Normal",
        "attachments": [{"id": message_id, "type": "Text", "contentType": "text/plain"}],
        "direction": "Inbound",
        "availability": "Alive",
        "subject": "Hi, are you open today?",
        "messageStatus": "Received",
        "conversation": {"id": str(stored.conversation_id)},
        "eventType": "Create",
        "owner": {"extensionId": str(alex.id), "extensionType": "User", "name": "Alex Morgan"},
    }
    [change] = events.of("/message-store")
    assert change["event"].endswith(f"/extension/{alex.id}/message-store")
    assert change["body"]["changes"] == [{"type": "SMS", "newCount": 1, "newMessageIds": [int(message_id)]}]
    assert change["body"]["extensionId"] == str(alex.id)


async def test_inbound_to_several_owners_stores_one_message_each(
    http: httpx.AsyncClient, emu: Running
) -> None:
    roomy_limits(emu)
    world = emu.world
    events = capture(emu, BLAIR, INSTANT)
    answer = await inject(
        http,
        **{
            "from": STRANGER,
            "to": [ALEX_MAIN, BLAIR_MAIN, ALEX_SUPPORT],
            "text": "Group hello",
            "fromName": "Pat",
        },
    )
    alex_copy = world.messages[int(answer["messageId"])]
    assert alex_copy.extension_id == world.extensions[ALEX].id
    [blair_event] = events.envelopes
    blair_id = int(blair_event["body"]["id"])
    assert blair_id != alex_copy.id
    assert [(t["phoneNumber"], t["target"]) for t in blair_event["body"]["to"]] == [
        (ALEX_MAIN, False),
        (BLAIR_MAIN, True),
        (ALEX_SUPPORT, False),
    ]
    assert blair_event["body"]["from"]["name"] == "Pat"
    assert answer["notified"] == 1

    alex_headers = await bearer(http, emu, ALEX)
    alex_view = (await http.get(f"{ME}/message-store/{alex_copy.id}", headers=alex_headers)).json()
    assert [t["target"] for t in alex_view["to"]] == [True, False, True]
    blair_headers = await bearer(http, emu, BLAIR)
    blair_list = (await http.get(f"{ME}/message-store", headers=blair_headers)).json()["records"]
    assert [r["id"] for r in blair_list] == [blair_id]


async def test_unknown_sender_has_no_name(http: httpx.AsyncClient, emu: Running) -> None:
    events = capture(emu, ALEX, INSTANT)
    await inject(http, **{"from": STRANGER, "to": ALEX_MAIN, "text": "who am I"})
    assert events.envelopes[0]["body"]["from"] == {
        "phoneNumber": STRANGER,
        "phoneNumberInfo": {
            "countryCode": "1",
            "nationalDestinationCode": "415",
            "subscriberNumber": "5559999",
        },
    }


@pytest.mark.parametrize(("sender", "shown"), [("72345", "72345"), ("+72345", "72345"), ("AMAZON", "AMAZON")])
async def test_short_code_and_alphanumeric_senders_arrive_as_carriers_pass_them(
    http: httpx.AsyncClient, emu: Running, sender: str, shown: str
) -> None:
    events = capture(emu, ALEX, INSTANT)
    await inject(http, **{"from": sender, "to": ALEX_MAIN, "text": "Reply STOP to opt out"})
    assert events.envelopes[0]["body"]["from"]["phoneNumber"] == shown


async def test_inbound_mms_bytes_download_from_the_event_uri(http: httpx.AsyncClient, emu: Running) -> None:
    roomy_limits(emu)
    events = capture(emu, ALEX, INSTANT)
    attachments = [
        {"contentType": "image/gif", "contentBase64": base64.b64encode(GIF).decode()},
        {
            "contentType": "text/vcard",
            "contentBase64": base64.b64encode(b"BEGIN:VCARD\r\nEND:VCARD").decode(),
        },
    ]
    answer = await inject(http, **{"from": CHARLIE, "to": ALEX_MAIN, "text": "", "attachments": attachments})
    body = events.envelopes[0]["body"]
    assert body["subject"] == ""
    gif, card = body["attachments"]  # no Text attachment for a media-only MMS
    assert (gif["type"], gif["contentType"], gif["size"]) == ("MmsAttachment", "image/gif", len(GIF))
    assert isinstance(gif["id"], str)
    message_path = (
        emu.world.account_path(emu.world.extensions[ALEX].id) + f"/message-store/{answer['messageId']}"
    )
    assert gif["uri"] == f"{emu.url}{message_path}/content/{gif['id']}"
    headers = await bearer(http, emu, ALEX)
    download = await http.get(gif["uri"], headers=headers)
    assert download.status_code == 200
    assert download.headers["content-type"] == "image/gif"
    assert download.content == GIF
    assert (await http.get(card["uri"], headers=headers)).content == b"BEGIN:VCARD\r\nEND:VCARD"


@pytest.mark.parametrize(
    ("body", "code", "parameter"),
    [
        ({"to": ALEX_MAIN, "text": "x"}, "CMN-100", "from"),
        ({"from": CHARLIE, "text": "x"}, "CMN-100", "to"),
        ({"from": CHARLIE, "to": ALEX_MAIN}, "CMN-100", "text"),
        ({"from": "some one!?", "to": ALEX_MAIN, "text": "x"}, "CMN-101", "from"),
        ({"from": CHARLIE, "to": ["+1988"], "text": "x"}, "CMN-101", "to"),
        ({"from": CHARLIE, "to": {"n": 1}, "text": "x"}, "CMN-101", "to"),
        ({"from": CHARLIE, "to": ALEX_MAIN, "text": 5}, "CMN-101", "text"),
        ({"from": CHARLIE, "to": ALEX_MAIN, "text": "x", "fromName": 7}, "CMN-101", "fromName"),
        (
            {
                "from": CHARLIE,
                "to": ALEX_MAIN,
                "attachments": [{"contentType": "image/gif", "contentBase64": "%%"}],
            },
            "CMN-101",
            "attachments[0].contentBase64",
        ),
        (
            {"from": CHARLIE, "to": ALEX_MAIN, "attachments": [{"contentBase64": "R0lG"}]},
            "CMN-101",
            "attachments[0].contentType",
        ),
    ],
)
async def test_inbound_bad_input_names_the_field(
    http: httpx.AsyncClient, body: dict[str, Any], code: str, parameter: str
) -> None:
    response = await http.post("/_emulator/inbound", json=body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["errorCode"] == code
    assert answer["errors"][0]["parameterName"] == parameter
    assert parameter in answer["message"]


async def test_inbound_malformed_json_and_unowned_number(http: httpx.AsyncClient, emu: Running) -> None:
    broken = await http.post(
        "/_emulator/inbound", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["errorCode"] == "CMN-103"
    nobody = await http.post("/_emulator/inbound", json={"from": CHARLIE, "to": STRANGER, "text": "x"})
    assert nobody.status_code == 404
    assert nobody.json()["errorCode"] == "CMN-102"
    assert STRANGER in nobody.json()["message"]
    assert emu.world.messages == {}


async def test_outbound_log_records_sends_since_an_id(http: httpx.AsyncClient, emu: Running) -> None:
    roomy_limits(emu)
    headers = await bearer(http, emu, ALEX)
    assert (await http.get("/_emulator/outbound")).json() == {"records": []}
    first = {"from": {"phoneNumber": ALEX_MAIN}, "to": [{"phoneNumber": CHARLIE}], "text": "one"}
    sent = (await http.post(ME + "/sms", json=first, headers=headers)).json()
    files = [
        (
            "json",
            (
                "request.json",
                httpx.Request("POST", "/", json={**first, "text": "two"}).content,
                "application/json",
            ),
        ),
        ("attachment", ("dot.gif", GIF, "image/gif")),
    ]
    mms = (await http.post(ME + "/mms", files=files, headers=headers)).json()
    records = (await http.get("/_emulator/outbound")).json()["records"]
    assert [r["id"] for r in records] == [sent["id"], mms["id"]]
    assert records[0] == {
        "id": sent["id"],
        "extensionId": emu.world.extensions[ALEX].id,
        "from": ALEX_MAIN,
        "to": [CHARLIE],
        "text": "one",
        "attachments": [],
        "messageStatus": records[0]["messageStatus"],
        "creationTime": sent["creationTime"],
    }
    assert records[1]["attachments"] == [
        {
            "contentType": "image/gif",
            "size": len(GIF),
            "contentBase64": base64.b64encode(GIF).decode(),
            "fileName": "dot.gif",
        }
    ]
    since = (await http.get("/_emulator/outbound", params={"since": sent["id"]})).json()["records"]
    assert [r["id"] for r in since] == [mms["id"]]
    bad = await http.get("/_emulator/outbound", params={"since": "yesterday"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["parameterName"] == "since"
