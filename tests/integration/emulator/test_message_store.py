"""The message store over real HTTP: listing with filters and paging, read status, deletion,
unknown or foreign messages, and attachment content with its disposition."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from messaging_kit import (
    ALEX_MAIN,
    BLAIR,
    BLAIR_MAIN,
    CHARLIE,
    ME,
    PNG,
    STORE,
    STRANGER,
    assert_error,
    bearer,
    form_files,
    inject,
    sms,
)

from rcinbox.emulator.runner import Running


async def test_message_store_list_filters_and_paging(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    sent = (await http.post(ME + "/sms", json=sms(), headers=alex)).json()
    first = await inject(http, **{"from": CHARLIE, "to": ALEX_MAIN, "text": "one"})
    second = await inject(http, **{"from": STRANGER, "to": ALEX_MAIN, "text": "two"})
    await inject(http, **{"from": CHARLIE, "to": BLAIR_MAIN, "text": "Blair's"})

    async def ids(**params: Any) -> list[int]:
        response = await http.get(STORE, params=params, headers=alex)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["records"]]

    newest_first = [int(second["messageId"]), int(first["messageId"]), sent["id"]]
    assert await ids() == newest_first
    assert await ids(direction="Inbound") == newest_first[:2]
    assert await ids(direction=["Inbound", "Outbound"], messageType="SMS") == newest_first
    assert await ids(readStatus="Read") == [sent["id"]]
    assert await ids(phoneNumber=CHARLIE) == [int(first["messageId"]), sent["id"]]
    assert await ids(conversationId=str(sent["conversationId"])) == [int(first["messageId"]), sent["id"]]
    assert await ids(distinctConversations="true") == newest_first[:2]
    assert await ids(dateFrom="2000-01-01T00:00:00Z", dateTo="2000-01-02T00:00:00.000Z") == []
    assert await ids(messageType="Fax") == []
    page = (await http.get(STORE, params={"perPage": 2, "page": 2}, headers=alex)).json()
    assert [r["id"] for r in page["records"]] == [sent["id"]]
    assert page["paging"]["totalElements"] == 3
    assert "page=1" in page["navigation"]["previousPage"]["uri"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"direction": "Sideways"}, "direction"),
        ({"messageType": "Telegram"}, "messageType"),
        ({"readStatus": "Maybe"}, "readStatus"),
        ({"dateFrom": "yesterday"}, "dateFrom"),
        ({"phoneNumber": "nobody"}, "phoneNumber"),
    ],
)
async def test_message_store_list_rejects_bad_filters(
    http: httpx.AsyncClient, alex: dict[str, str], params: dict[str, str], parameter: str
) -> None:
    response = await http.get(STORE, params=params, headers=alex)
    assert_error(response, 400, "CMN-101")
    assert response.json()["errors"][0]["parameterName"] == parameter


async def test_read_status_update_and_delete(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    injected = await inject(http, **{"from": CHARLIE, "to": ALEX_MAIN, "text": "mark me"})
    url = f"{STORE}/{injected['messageId']}"
    message = (await http.get(url, headers=alex)).json()
    assert (message["readStatus"], message["messageStatus"]) == ("Unread", "Received")
    assert message["vmSideRecipients"] == message["to"]

    updated = await http.put(url, json={"readStatus": "Read"}, headers=alex)
    assert updated.status_code == 200
    assert updated.json()["readStatus"] == "Read"
    assert (await http.get(STORE, params={"readStatus": "Unread"}, headers=alex)).json()["records"] == []
    assert_error(await http.put(url, json={"readStatus": "Skimmed"}, headers=alex), 400, "CMN-101")
    assert_error(await http.put(url, json={}, headers=alex), 400, "CMN-100")

    assert (await http.delete(url, headers=alex)).status_code == 204
    assert (await http.get(STORE, headers=alex)).json()["records"] == []
    assert (await http.get(url, headers=alex)).json()["availability"] == "Deleted"
    deleted = (await http.get(STORE, params={"availability": "Deleted"}, headers=alex)).json()["records"]
    assert [r["id"] for r in deleted] == [int(injected["messageId"])]


async def test_unknown_or_foreign_message_is_404(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    blairs = await inject(http, **{"from": CHARLIE, "to": BLAIR_MAIN, "text": "private"})
    for message_id in ("12345", blairs["messageId"], "abc"):
        response = await http.get(f"{STORE}/{message_id}", headers=alex)
        assert_error(response, 404, "CMN-102", "Resource for parameter [messageId] is not found")
    blair = await bearer(http, emu, BLAIR)
    assert (await http.get(f"{STORE}/{blairs['messageId']}", headers=blair)).status_code == 200


async def test_content_errors_and_disposition(http: httpx.AsyncClient, alex: dict[str, str]) -> None:
    files = form_files(sms(), ("photo.png", PNG, "image/png"))
    body = (await http.post(ME + "/mms", files=files, headers=alex)).json()
    photo = body["attachments"][1]
    missing = await http.get(f"{body['uri']}/content/999", headers=alex)
    assert_error(missing, 404, "CMN-102", "Resource for parameter [attachmentId] is not found")
    assert missing.json()["errors"][0]["parameterName"] == "attachmentId"
    download = await http.get(photo["uri"], params={"contentDisposition": "Attachment"}, headers=alex)
    assert download.headers["content-disposition"] == 'attachment; filename="photo.png"'
    assert download.headers["X-Rate-Limit-Group"].lower() == "medium"
    assert download.content == PNG
