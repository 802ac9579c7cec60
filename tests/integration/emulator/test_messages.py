"""Sending over real HTTP: SMS/MMS with every validation code and limit, status progression, texts
between the account's own numbers, and opt-outs. The message store is in ``test_message_store.py``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from messaging_kit import (
    ALEX,
    ALEX_MAIN,
    ALEX_SUPPORT,
    BLAIR,
    BLAIR_MAIN,
    CASEY,
    CHARLIE,
    JPEG,
    ME,
    PNG,
    STORE,
    STRANGER,
    assert_error,
    bearer,
    capture,
    form_files,
    inject,
    roomy_limits,
    sms,
)

from rcinbox.emulator.model import Subscription
from rcinbox.emulator.runner import Running, serve


async def test_send_sms_answers_queued_message(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    response = await http.post(ME + "/sms", json=sms(), headers=alex)
    assert response.status_code == 200, response.text
    assert response.headers["X-Rate-Limit-Group"].lower() == "medium"
    body = response.json()
    ext = emu.world.extensions[ALEX]
    assert isinstance(body["id"], int)
    assert body["uri"] == f"{emu.url}{emu.world.account_path(ext.id)}/message-store/{body['id']}"
    assert body["messageStatus"] == "Queued"
    assert body["direction"] == "Outbound"
    assert body["readStatus"] == "Read"
    assert body["type"] == "SMS"
    assert body["subject"] == "Thanks, we got your message."
    assert body["from"] == {"phoneNumber": ALEX_MAIN, "name": "Alex Morgan"}
    assert body["to"] == [{"phoneNumber": CHARLIE, "name": "Charlie Williams"}]
    assert body["conversation"]["id"] == str(body["conversationId"])
    assert body["smsSendingAttemptsCount"] == 1
    [text] = body["attachments"]
    assert (text["id"], text["type"], text["contentType"]) == (body["id"], "Text", "text/plain")
    content = await http.get(text["uri"], headers=alex)
    assert content.status_code == 200
    assert content.headers["content-type"] == "text/plain;charset=UTF-8"
    assert content.text == "Thanks, we got your message."


async def test_sent_message_moves_to_delivered_with_store_events(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    events = capture(
        emu, ALEX, ME + "/message-store?direction=Outbound", ME + "/message-store/instant?type=SMS"
    )
    statuses: list[str] = []  # the message's status when each event went out

    def seen(subscription: Subscription, envelope: dict[str, Any]) -> None:
        statuses.append(emu.world.mailbox.outbound[-1].status)
        events(subscription, envelope)

    emu.world.deliverers["WebHook"] = seen
    sent = (await http.post(ME + "/sms", json=sms(), headers=alex)).json()
    await events.wait_for(lambda: len(events.envelopes) >= 3)
    assert statuses == ["Queued", "Sent", "Delivered"]
    assert events.of("/message-store/instant") == []  # the instant event is for inbound messages only
    changes = [e["body"]["changes"][0] for e in events.envelopes]
    assert changes[0] == {"type": "SMS", "newCount": 1, "newMessageIds": [sent["id"]]}
    assert changes[1] == changes[2] == {"type": "SMS", "updatedCount": 1, "newMessageIds": []}
    ext = emu.world.extensions[ALEX]
    assert events.envelopes[0]["body"]["extensionId"] == str(ext.id)
    assert events.envelopes[0]["event"].endswith(f"/extension/{ext.id}/message-store?direction=Outbound")
    stored = (await http.get(f"{STORE}/{sent['id']}", headers=alex)).json()
    assert stored["messageStatus"] == "Delivered"
    assert stored["smsDeliveryTime"] >= stored["creationTime"]


@pytest.mark.parametrize(
    ("body", "status", "code", "parameter"),
    [
        ({"to": [{"phoneNumber": CHARLIE}], "text": "x"}, 400, "CMN-100", "from"),
        ({"from": {"phoneNumber": ALEX_MAIN}, "text": "x"}, 400, "CMN-100", "to"),
        ({"from": {"phoneNumber": ALEX_MAIN}, "to": [{"phoneNumber": CHARLIE}]}, 400, "CMN-100", "text"),
        ({**sms(), "from": {}}, 400, "CMN-100", "from.phoneNumber"),
        (sms(to="call me"), 400, "CMN-101", "to.phoneNumber"),
        (sms(text="x" * 1001), 400, "CMN-101", "text"),
        (sms(text="🙂" * 501), 400, "CMN-101", "text"),  # 1002 UTF-16 units
        (sms(frm=STRANGER), 400, "MSG-245", "from"),
    ],
)
async def test_send_validation_errors_name_the_parameter(
    http: httpx.AsyncClient,
    alex: dict[str, str],
    body: dict[str, Any],
    status: int,
    code: str,
    parameter: str,
) -> None:
    response = await http.post(ME + "/sms", json=body, headers=alex)
    assert_error(response, status, code)
    assert response.json()["errors"][0]["parameterName"] == parameter


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        (sms(frm=BLAIR_MAIN), 403, "MSG-304", "Phone number doesn't belong to extension"),
        (sms(frm="+16505550000"), 403, "MSG-304", "Phone number doesn't belong to extension"),  # company
        (sms(to="+1988"), 400, "MSG-247", "Sending SMS to short numbers is not available"),
        (sms(to="22395"), 400, "MSG-247", "Sending SMS to short numbers is not available"),
        (
            {**sms(), "to": [{"phoneNumber": CHARLIE}, {"phoneNumber": "(415) 555-0100"}]},
            400,
            "CMN-406",
            f"Duplicate value for parameter to: {CHARLIE} found in request",
        ),
        (
            {**sms(), "to": [{"extensionNumber": "102"}]},
            400,
            "MSG-246",
            "Sending SMS from/to extension numbers is not available",
        ),
    ],
)
async def test_send_refusals(
    http: httpx.AsyncClient, alex: dict[str, str], body: dict[str, Any], status: int, code: str, message: str
) -> None:
    assert_error(await http.post(ME + "/sms", json=body, headers=alex), status, code, message)


async def test_text_of_exactly_the_limit_in_utf16_units_is_sent(
    http: httpx.AsyncClient, alex: dict[str, str]
) -> None:
    response = await http.post(ME + "/sms", json=sms(text="🙂" * 500), headers=alex)
    assert response.status_code == 200
    assert response.json()["subject"] == "🙂" * 500


async def test_number_without_sms_sender_is_msg_242(http: httpx.AsyncClient, emu: Running) -> None:
    roomy_limits(emu)
    casey = await bearer(http, emu, CASEY)
    response = await http.post(ME + "/sms", json=sms(frm="+16505550103"), headers=casey)
    assert_error(response, 403, "MSG-242", "Sending SMS is not available from the number specified.")


async def test_malformed_json_is_cmn_103(http: httpx.AsyncClient, alex: dict[str, str]) -> None:
    headers = {**alex, "Content-Type": "application/json"}
    response = await http.post(ME + "/sms", content=b'{"from": ', headers=headers)
    assert_error(response, 400, "CMN-103", "JSON can't be parsed.")


async def test_mms_form_data_round_trips_attachment_bytes(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    files = form_files(sms("Look at this"), ("photo.png", PNG, "image/png"), ("pic.jpg", JPEG, "image/jpeg"))
    response = await http.post(ME + "/mms", files=files, headers=alex)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["messageStatus"] == "Queued"
    text, png, jpeg = body["attachments"]
    assert text["type"] == "Text"
    assert (png["type"], png["contentType"], png["size"], png["fileName"]) == (
        "MmsAttachment",
        "image/png",
        len(PNG),
        "photo.png",
    )
    assert png["uri"] == f"{body['uri']}/content/{png['id']}"
    for attachment, data in ((png, PNG), (jpeg, JPEG)):
        content = await http.get(attachment["uri"], headers=alex)
        assert content.status_code == 200
        assert content.headers["content-type"] == attachment["contentType"]
        assert content.content == data
    outbound = (await http.get("/_emulator/outbound")).json()["records"][-1]
    assert [a["size"] for a in outbound["attachments"]] == [len(PNG), len(JPEG)]


async def test_mms_multipart_mixed_with_any_part_names(http: httpx.AsyncClient, alex: dict[str, str]) -> None:
    boundary = "rc-boundary-42"
    parts = [
        (b"Content-Type: application/json\r\n", orjson.dumps(sms(text=""))),
        (b"Content-Type: image/png\r\nContent-Disposition: attachment; filename=a.png\r\n", PNG),
        (b'Content-Disposition: form-data; name="whatever"; filename="b.jpg"\r\n', JPEG),  # type from name
    ]
    raw = b"".join(
        b"--" + boundary.encode() + b"\r\n" + head + b"\r\n" + data + b"\r\n" for head, data in parts
    )
    raw += b"--" + boundary.encode() + b"--\r\n"
    headers = {**alex, "Content-Type": f"multipart/mixed; boundary={boundary}"}
    response = await http.post(ME + "/sms", content=raw, headers=headers)  # multipart /sms sends an MMS
    assert response.status_code == 200, response.text
    attachments = response.json()["attachments"]
    assert [(a["contentType"], a["size"]) for a in attachments] == [
        ("image/png", len(PNG)),
        ("image/jpeg", len(JPEG)),
    ]
    assert (await http.get(attachments[1]["uri"], headers=alex)).content == JPEG


@pytest.mark.parametrize(
    ("files", "status", "code"),
    [
        ([("a.png", b"", "image/png")], 400, "MSG-347"),
        ([("tool.exe", b"MZ", "application/x-msdownload")], 415, "MSG-348"),
        ([(f"{i}.png", b"x", "image/png") for i in range(11)], 400, "MSG-379"),
        ([("big.png", b"x" * 1_500_001, "image/png")], 400, "MSG-337"),
        ([("a.png", b"x" * 800_000, "image/png"), ("b.png", b"x" * 800_000, "image/png")], 400, "MSG-338"),
    ],
)
async def test_mms_attachment_limits(
    http: httpx.AsyncClient, alex: dict[str, str], files: list[tuple[str, bytes, str]], status: int, code: str
) -> None:
    response = await http.post(ME + "/mms", files=form_files(sms(), *files), headers=alex)
    assert_error(response, status, code)


@pytest.mark.parametrize(
    "files",
    [
        [("whole.png", b"x" * 1_500_000, "image/png")],
        [(f"{i}.png", b"x" * 150_000, "image/png") for i in range(10)],
    ],
    ids=["one-of-exactly-1.5-MB", "ten-making-exactly-1.5-MB"],
)
async def test_mms_at_the_limits_is_sent(
    http: httpx.AsyncClient, alex: dict[str, str], files: list[tuple[str, bytes, str]]
) -> None:
    response = await http.post(ME + "/mms", files=form_files(sms(), *files), headers=alex)
    assert response.status_code == 200, response.text
    sizes = [a["size"] for a in response.json()["attachments"] if a["type"] == "MmsAttachment"]
    assert sizes == [len(data) for _, data, _ in files]


async def test_mms_without_attachments_is_cmn_100(http: httpx.AsyncClient, alex: dict[str, str]) -> None:
    response = await http.post(ME + "/mms", json=sms(), headers=alex)
    assert_error(response, 400, "CMN-100")
    assert response.json()["errors"][0]["parameterName"] == "attachments"


async def test_mms_from_number_without_mms_sender_is_msg_242(tmp_path: Path) -> None:
    data = {
        "extensions": [
            {
                "id": 5001,
                "extensionNumber": "101",
                "name": "Toll Free",
                "jwt": "jwt-toll-free-0001",
                "phoneNumbers": [{"phoneNumber": "+18885550100", "features": ["CallerId", "SmsSender"]}],
            }
        ]
    }
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data))
    async with serve(data=path) as emu, httpx.AsyncClient(base_url=emu.url) as http:
        headers = await bearer(http, emu, 0)
        body = sms(frm="+18885550100")
        assert (await http.post(ME + "/sms", json=body, headers=headers)).status_code == 200
        response = await http.post(
            ME + "/mms", files=form_files(body, ("a.png", PNG, "image/png")), headers=headers
        )
        assert_error(response, 403, "MSG-242")


async def test_text_to_a_number_of_the_account_arrives_there(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    events = capture(emu, BLAIR, ME + "/message-store/instant?type=SMS")
    sent = (await http.post(ME + "/sms", json=sms("Lunch?", to=BLAIR_MAIN), headers=alex)).json()
    await events.wait_for(lambda: len(events.envelopes) == 1)
    body = events.envelopes[0]["body"]
    assert (body["subject"], body["direction"], body["messageStatus"]) == ("Lunch?", "Inbound", "Received")
    assert body["from"]["phoneNumber"] == ALEX_MAIN
    assert body["from"]["name"] == "Alex Morgan"
    assert body["to"] == [{"phoneNumber": BLAIR_MAIN, "name": "Blair Kim", "target": True}]
    assert int(body["id"]) != sent["id"]
    blair = await bearer(http, emu, BLAIR)
    [received] = (await http.get(STORE, headers=blair)).json()["records"]
    assert received["id"] == int(body["id"])
    assert (await http.get(f"{STORE}/{sent['id']}", headers=alex)).json()["messageStatus"] == "Delivered"


async def test_pending_status_progressions_stop_at_shutdown(emu: Running) -> None:
    box = emu.world.mailbox
    assert box.close in emu.emulator.closers  # the app's shutdown runs it
    started, never = asyncio.Event(), asyncio.Event()

    async def progression() -> None:
        started.set()
        await never.wait()

    box.spawn(progression(), name="test-progression")
    [task] = box.tasks
    await asyncio.wait_for(started.wait(), 5)
    await box.close()
    assert task.cancelled()
    assert box.tasks == set()


async def test_recipient_who_texted_stop_is_not_texted(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    events = capture(emu, ALEX, ME + "/message-store?direction=Outbound")
    await inject(http, **{"from": CHARLIE, "to": ALEX_MAIN, "text": " stop "})

    async def send(frm: str) -> dict[str, Any]:
        before = len(events.envelopes)
        sent: dict[str, Any] = (await http.post(ME + "/sms", json=sms(frm=frm), headers=alex)).json()
        assert sent["messageStatus"] == "Queued"
        await events.wait_for(lambda: len(events.envelopes) >= before + 2)
        message = await http.get(f"{STORE}/{sent['id']}", headers=alex)
        if message.json()["messageStatus"] == "Sent":  # wait for the final state
            await events.wait_for(lambda: len(events.envelopes) >= before + 3)
            message = await http.get(f"{STORE}/{sent['id']}", headers=alex)
        final: dict[str, Any] = message.json()
        return final

    blocked = await send(ALEX_MAIN)
    assert (blocked["messageStatus"], blocked["deliveryErrorCode"]) == ("SendingFailed", "SMS-RC-413")
    outbound = (await http.get("/_emulator/outbound")).json()["records"]
    assert outbound[-1]["deliveryErrorCode"] == "SMS-RC-413"
    other_line = await send(ALEX_SUPPORT)  # opt-outs are per pair of numbers
    assert other_line["messageStatus"] == "Delivered"
    assert "deliveryErrorCode" not in other_line

    await inject(http, **{"from": CHARLIE, "to": ALEX_MAIN, "text": "UNSTOP"})
    assert (await send(ALEX_MAIN))["messageStatus"] == "Delivered"
