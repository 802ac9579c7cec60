"""Account data API over real HTTP: extension info, phone numbers, contacts and address-book sync."""

from __future__ import annotations

import httpx
import pytest
from messaging_kit import ALEX, BLAIR, ME, bearer, roomy_limits

from rcinbox.emulator.runner import Running

CONTACTS = ME + "/address-book/contact"


async def test_extension_info_resolves_tilde(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    response = await http.get(ME, headers=alex)
    assert response.status_code == 200
    body = response.json()
    ext = emu.world.extensions[ALEX]
    assert body["id"] == ext.id
    assert body["uri"] == f"{emu.url}/restapi/v1.0/account/{emu.world.account_id}/extension/{ext.id}"
    assert body["extensionNumber"] == "101"
    assert body["name"] == "Alex Morgan"
    assert body["type"] == "User"
    assert body["status"] == "Enabled"
    assert body["account"] == {
        "id": str(emu.world.account_id),
        "uri": f"{emu.url}/restapi/v1.0/account/{emu.world.account_id}",
    }
    assert body["contact"] == {"firstName": "Alex", "lastName": "Morgan", "email": "alex.morgan@example.com"}
    assert body["permissions"] == {"admin": {"enabled": True}}
    assert response.headers["X-Rate-Limit-Group"].lower() == "light"
    assert response.headers["content-type"] == "application/json;charset=UTF-8"  # PLATFORM.md §7.2
    assert (response.headers["RoutingKey"], response.headers["Content-Language"]) == ("SJC01P07", "en-US")
    assert response.headers["RCRequestId"]


async def test_super_admin_reads_another_extension(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    blair = emu.world.extensions[BLAIR]
    response = await http.get(f"/restapi/v1.0/account/~/extension/{blair.id}", headers=alex)
    assert response.status_code == 200
    assert response.json()["name"] == "Blair Kim"
    assert response.json()["permissions"] == {"admin": {"enabled": False}}


async def test_phone_numbers_list_features_and_paging(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    response = await http.get(ME + "/phone-number", headers=alex)
    assert response.status_code == 200
    body = response.json()
    assert [r["phoneNumber"] for r in body["records"]] == ["+16505550100", "+16505550101"]
    first = body["records"][0]
    assert first["features"] == ["CallerId", "SmsSender", "MmsSender"]
    assert first["usageType"] == "DirectNumber"
    assert first["primary"] is True
    assert first["status"] == "Normal"
    assert first["uri"].startswith(f"{emu.url}/restapi/v1.0/account/")
    assert body["records"][1]["label"] == "Support line"
    assert body["paging"] == {
        "page": 1,
        "totalPages": 1,
        "perPage": 100,
        "totalElements": 2,
        "pageStart": 0,
        "pageEnd": 1,
    }
    assert set(body["navigation"]) == {"firstPage", "lastPage"}

    paged = (await http.get(ME + "/phone-number", params={"perPage": 1, "page": 2}, headers=alex)).json()
    assert [r["phoneNumber"] for r in paged["records"]] == ["+16505550101"]
    assert paged["paging"]["pageStart"] == 1
    assert "page=1" in paged["navigation"]["previousPage"]["uri"]
    assert "nextPage" not in paged["navigation"]


async def test_number_without_sms_feature_is_listed_without_it(http: httpx.AsyncClient, emu: Running) -> None:
    roomy_limits(emu)
    casey = await bearer(http, emu, 2)
    records = (await http.get(ME + "/phone-number", headers=casey)).json()["records"]
    assert [(r["phoneNumber"], r["features"]) for r in records] == [("+16505550103", ["CallerId"])]


async def test_bad_paging_parameter_is_cmn_101(http: httpx.AsyncClient, alex: dict[str, str]) -> None:
    response = await http.get(ME + "/phone-number", params={"perPage": "zero"}, headers=alex)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "errorCode": "CMN-101",
            "message": "Parameter [perPage] value is invalid.",
            "parameterName": "perPage",
            "parameterValue": "zero",
        }
    ]


async def test_contacts_list_only_set_fields(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    response = await http.get(CONTACTS, headers=alex)
    assert response.status_code == 200
    assert response.headers["X-Rate-Limit-Group"].lower() == "heavy"
    body = response.json()
    assert [(r.get("firstName"), r.get("company")) for r in body["records"]] == [
        ("Charlie", None),
        ("Dana", None),
        ("Eli", None),
        (None, "Acme Supplies"),
    ]
    charlie = body["records"][0]
    assert set(charlie) == {"uri", "id", "availability", "firstName", "lastName", "mobilePhone"}
    assert charlie["availability"] == "Alive"
    assert charlie["uri"] == f"{emu.url}{emu.world.account_path(emu.world.extensions[ALEX].id)}" + (
        f"/address-book/contact/{charlie['id']}"
    )
    assert body["paging"]["totalElements"] == 4
    assert body["groups"]["uri"].endswith("/address-book/group")


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        (["+14155550100"], ["Charlie"]),  # mobilePhone
        (["+14155550102"], ["Eli"]),  # businessPhone
        (["+14155550100", "+14155550102"], ["Charlie", "Eli"]),  # repeatable
        ([" 14155550101"], ["Dana"]),  # a "+" that was not percent-encoded arrives as a space
        (["+19995550000"], []),
    ],
)
async def test_contacts_phone_number_filter(
    http: httpx.AsyncClient, alex: dict[str, str], numbers: list[str], expected: list[str]
) -> None:
    params = [("phoneNumber", n) for n in numbers]
    records = (await http.get(CONTACTS, params=params, headers=alex)).json()["records"]
    assert [r["firstName"] for r in records] == expected


async def test_contacts_phone_number_filter_rejects_junk(
    http: httpx.AsyncClient, alex: dict[str, str]
) -> None:
    response = await http.get(CONTACTS, params={"phoneNumber": "call me"}, headers=alex)
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorCode"] == "CMN-101"
    assert response.json()["errors"][0]["parameterName"] == "phoneNumber"


async def test_contacts_starts_with_and_paging(http: httpx.AsyncClient, alex: dict[str, str]) -> None:
    found = (await http.get(CONTACTS, params={"startsWith": "LO"}, headers=alex)).json()["records"]
    assert [r["firstName"] for r in found] == ["Dana"]  # Lopez, case-insensitive
    page = (await http.get(CONTACTS, params={"perPage": 3, "page": 2}, headers=alex)).json()
    assert [r.get("company") for r in page["records"]] == ["Acme Supplies"]
    assert page["paging"] == {
        "page": 2,
        "totalPages": 2,
        "perPage": 3,
        "totalElements": 4,
        "pageStart": 3,
        "pageEnd": 3,
    }
    sorted_ = (await http.get(CONTACTS, params={"sortBy": "LastName"}, headers=alex)).json()["records"]
    assert [r.get("lastName") for r in sorted_] == ["Chen", "Lopez", "Williams", None]


async def test_read_one_contact_and_unknown_contact(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    charlie = emu.world.extensions[ALEX].contacts[0]
    response = await http.get(f"{CONTACTS}/{charlie.id}", headers=alex)
    assert response.status_code == 200
    assert response.json()["mobilePhone"] == "+14155550100"
    missing = await http.get(f"{CONTACTS}/42", headers=alex)
    assert missing.status_code == 404
    assert missing.json() == {
        "errorCode": "CMN-102",
        "message": "Resource for parameter [contactId] is not found",
        "errors": [
            {
                "errorCode": "CMN-102",
                "message": "Resource for parameter [contactId] is not found",
                "parameterName": "contactId",
                "parameterValue": "42",
            }
        ],
        "parameterName": "contactId",
    }


async def test_address_book_sync_full_then_incremental_with_deletion(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    sync = ME + "/address-book-sync"
    full = (await http.get(sync, params={"syncType": "FSync"}, headers=alex)).json()
    assert len(full["records"]) == 4
    assert full["syncInfo"]["syncType"] == "FSync"
    assert full["syncInfo"]["olderRecordsExist"] is False
    token = full["syncInfo"]["syncToken"]

    dana = emu.world.extensions[ALEX].contacts[1]
    assert (await http.delete(f"{CONTACTS}/{dana.id}", headers=alex)).status_code == 204
    assert (await http.get(f"{CONTACTS}/{dana.id}", headers=alex)).status_code == 404

    incremental = (
        await http.get(sync, params={"syncType": "ISync", "syncToken": token}, headers=alex)
    ).json()
    assert incremental["syncInfo"]["syncType"] == "ISync"
    assert [(r["id"], r["availability"]) for r in incremental["records"]] == [(dana.id, "Deleted")]
    assert "firstName" not in incremental["records"][0]
    listed = (await http.get(CONTACTS, headers=alex)).json()["records"]
    assert dana.id not in [r["id"] for r in listed]

    again = incremental["syncInfo"]["syncToken"]
    later = (await http.get(sync, params={"syncType": "ISync", "syncToken": again}, headers=alex)).json()
    assert later["records"] == []


async def test_address_book_sync_pages(http: httpx.AsyncClient, alex: dict[str, str]) -> None:
    sync = ME + "/address-book-sync"
    first = (await http.get(sync, params={"syncType": "FSync", "perPage": 3}, headers=alex)).json()
    assert len(first["records"]) == 3
    assert first["nextPageId"] == 4
    rest = (await http.get(first["nextPageUri"], headers=alex)).json()
    assert [r.get("company") for r in rest["records"]] == ["Acme Supplies"]
    assert "nextPageId" not in rest


@pytest.mark.parametrize(
    ("params", "code", "parameter"),
    [
        ({"syncType": "ISync"}, "CMN-100", "syncToken"),
        ({"syncType": "ISync", "syncToken": "not-a-token"}, "CMN-101", "syncToken"),
        ({"syncType": "Sometimes"}, "CMN-101", "syncType"),
    ],
)
async def test_address_book_sync_errors(
    http: httpx.AsyncClient, alex: dict[str, str], params: dict[str, str], code: str, parameter: str
) -> None:
    response = await http.get(ME + "/address-book-sync", params=params, headers=alex)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["errorCode"], error["parameterName"]) == (code, parameter)


async def test_sync_token_of_another_extension_is_refused(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    blair = await bearer(http, emu, BLAIR)
    sync = ME + "/address-book-sync"
    token = (await http.get(sync, headers=blair)).json()["syncInfo"]["syncToken"]
    response = await http.get(sync, params={"syncType": "ISync", "syncToken": token}, headers=alex)
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorCode"] == "CMN-101"
