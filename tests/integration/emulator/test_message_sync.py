"""Message sync over real HTTP: FSync frames, ISync changes (new, updated, deleted), sync tokens."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from messaging_kit import ALEX, ALEX_MAIN, BLAIR, CHARLIE, ME, STRANGER, bearer, capture, inject

from rcinbox.emulator.runner import Running

SYNC = ME + "/message-sync"
STORE = ME + "/message-store"


async def sync(http: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await http.get(SYNC, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["X-Rate-Limit-Group"].lower() == "light"
    body: dict[str, Any] = response.json()
    return body


async def test_full_sync_returns_the_frame_newest_first(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    first = await inject(http, **{"from": CHARLIE, "to": ALEX_MAIN, "text": "first"})
    second = await inject(http, **{"from": STRANGER, "to": ALEX_MAIN, "text": "second"})
    body = await sync(http, alex, syncType="FSync")
    assert [r["id"] for r in body["records"]] == [int(second["messageId"]), int(first["messageId"])]
    assert body["records"][0]["subject"] == "second"
    assert body["syncInfo"]["syncType"] == "FSync"
    assert body["syncInfo"]["olderRecordsExist"] is False
    assert body["syncInfo"]["syncToken"]
    assert body["uri"].startswith(f"{emu.url}/restapi/v1.0/account/{emu.world.account_id}/extension/")
    assert "paging" not in body

    capped = await sync(http, alex, syncType="FSync", recordCount=1)
    assert [r["id"] for r in capped["records"]] == [int(second["messageId"])]
    assert capped["syncInfo"]["olderRecordsExist"] is True
    old = await sync(http, alex, syncType="FSync", dateTo="2001-01-01T00:00:00Z")
    assert old["records"] == []
    inbound_only = await sync(http, alex, direction="Outbound")  # FSync is the default
    assert inbound_only["records"] == []


async def test_incremental_sync_sees_new_updated_and_deleted_messages(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    kept = await inject(http, **{"from": CHARLIE, "to": ALEX_MAIN, "text": "keep me"})
    doomed = await inject(http, **{"from": CHARLIE, "to": ALEX_MAIN, "text": "delete me"})
    token = (await sync(http, alex, syncType="FSync"))["syncInfo"]["syncToken"]

    nothing = await sync(http, alex, syncType="ISync", syncToken=token)
    assert nothing["records"] == []
    assert nothing["syncInfo"]["syncType"] == "ISync"

    fresh = await inject(http, **{"from": STRANGER, "to": ALEX_MAIN, "text": "new"})
    await http.put(f"{STORE}/{kept['messageId']}", json={"readStatus": "Read"}, headers=alex)
    assert (await http.delete(f"{STORE}/{doomed['messageId']}", headers=alex)).status_code == 204

    changes = await sync(http, alex, syncType="ISync", syncToken=token)
    by_id = {r["id"]: r for r in changes["records"]}
    assert list(by_id) == [int(doomed["messageId"]), int(kept["messageId"]), int(fresh["messageId"])]
    assert by_id[int(doomed["messageId"])] == {"id": int(doomed["messageId"]), "availability": "Deleted"}
    assert by_id[int(kept["messageId"])]["readStatus"] == "Read"
    assert by_id[int(fresh["messageId"])]["subject"] == "new"

    after = await sync(http, alex, syncType="ISync", syncToken=changes["syncInfo"]["syncToken"])
    assert after["records"] == []


async def test_incremental_sync_follows_a_sent_message_to_delivered(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    events = capture(emu, ALEX, ME + "/message-store")
    token = (await sync(http, alex))["syncInfo"]["syncToken"]
    body = {"from": {"phoneNumber": ALEX_MAIN}, "to": [{"phoneNumber": CHARLIE}], "text": "on its way"}
    sent = (await http.post(ME + "/sms", json=body, headers=alex)).json()
    await events.wait_for(lambda: len(events.envelopes) >= 3)  # created, Sent, Delivered
    [record] = (await sync(http, alex, syncType="ISync", syncToken=token))["records"]
    assert (record["id"], record["messageStatus"]) == (sent["id"], "Delivered")


@pytest.mark.parametrize("token", ["garbage", "TVMxLjEuMg", ""])
async def test_bad_sync_token_is_msg_333(http: httpx.AsyncClient, alex: dict[str, str], token: str) -> None:
    response = await http.get(SYNC, params={"syncType": "ISync", "syncToken": token}, headers=alex)
    assert response.status_code == 400
    body = response.json()
    if token:
        message = "Invalid message synchronisation request: full synchronization is required"
        assert body["errorCode"] == "MSG-333"
        assert body["errors"][0] == {
            "errorCode": "MSG-333",
            "message": message,
            "parameterName": "syncToken",
            "parameterValue": token,
        }
    else:
        assert body["errors"][0]["errorCode"] == "CMN-100"


async def test_another_extensions_token_is_msg_333(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    blair = await bearer(http, emu, BLAIR)
    token = (await sync(http, blair))["syncInfo"]["syncToken"]
    response = await http.get(SYNC, params={"syncType": "ISync", "syncToken": token}, headers=alex)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "MSG-333"


async def test_unknown_sync_type_is_cmn_101(http: httpx.AsyncClient, alex: dict[str, str]) -> None:
    response = await http.get(SYNC, params={"syncType": "Partial"}, headers=alex)
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameterName"] == "syncType"
