"""``GET /restapi/v1.0/account/~/phone-number`` (listAccountPhoneNumbers): the company's numbers and
every extension's, for an administrator; 403 CMN-408 for a user without the permission."""

from __future__ import annotations

import httpx
import pytest
from messaging_kit import BLAIR, bearer

from rcinbox.emulator.runner import Running

NUMBERS = "/restapi/v1.0/account/~/phone-number"


async def test_an_admin_lists_the_company_and_every_extension_number(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    answer = await http.get(NUMBERS, headers=alex)
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Rate-Limit-Group"] == "heavy"  # x-throttling-group: Heavy
    body = answer.json()
    account, world = emu.world.account_id, emu.world
    listed = [
        (r["phoneNumber"], r["usageType"], (r.get("extension") or {}).get("extensionNumber"))
        for r in body["records"]
    ]
    assert listed == [
        ("+16505550000", "MainCompanyNumber", None),
        ("+16505550100", "DirectNumber", "101"),
        ("+16505550101", "DirectNumber", "101"),
        ("+16505550102", "DirectNumber", "102"),
        ("+16505550103", "DirectNumber", "103"),
    ]
    main, alex_main = body["records"][0], body["records"][1]
    assert "extension" not in main
    assert alex_main["extension"] == {
        "id": world.extensions[0].id,
        "uri": f"{emu.url}/restapi/v1.0/account/{account}/extension/{world.extensions[0].id}",
        "extensionNumber": "101",
        "name": "Alex Morgan",
    }
    assert alex_main["uri"] == f"{emu.url}/restapi/v1.0/account/{account}/phone-number/{alex_main['id']}"
    assert (alex_main["status"], alex_main["type"], alex_main["paymentType"]) == (
        "Normal",
        "VoiceFax",
        "Local",
    )
    assert body["records"][2]["label"] == "Support line"
    assert len({r["id"] for r in body["records"]}) == 5
    assert body["paging"] == {
        "page": 1,
        "totalPages": 1,
        "perPage": 100,
        "totalElements": 5,
        "pageStart": 0,
        "pageEnd": 4,
    }
    assert body["uri"] == f"{emu.url}/restapi/v1.0/account/{account}/phone-number?page=1&perPage=100"


async def test_pages_and_filters(http: httpx.AsyncClient, alex: dict[str, str]) -> None:
    second = (await http.get(NUMBERS, params={"perPage": 2, "page": 2}, headers=alex)).json()
    assert [r["phoneNumber"] for r in second["records"]] == ["+16505550101", "+16505550102"]
    assert set(second["navigation"]) == {"firstPage", "nextPage", "previousPage", "lastPage"}
    assert "page=3&perPage=2" in second["navigation"]["nextPage"]["uri"]
    company = {"usageType": ["MainCompanyNumber", "CompanyNumber"]}
    only = (await http.get(NUMBERS, params=company, headers=alex)).json()["records"]
    assert [r["phoneNumber"] for r in only] == ["+16505550000"]
    enabled = (await http.get(NUMBERS, params={"extensionStatus": "Enabled"}, headers=alex)).json()
    assert [r["phoneNumber"] for r in enabled["records"]] == [  # the main number has no extension
        "+16505550100",
        "+16505550101",
        "+16505550102",
        "+16505550103",
    ]
    pending = (await http.get(NUMBERS, params={"status": "Pending"}, headers=alex)).json()
    assert pending["records"] == []
    toll_free = (await http.get(NUMBERS, params={"paymentType": "TollFree"}, headers=alex)).json()
    assert toll_free["paging"]["totalElements"] == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [("usageType", "Personal"), ("status", "normal"), ("paymentType", "Free"), ("extensionStatus", "On")],
)
async def test_a_filter_value_outside_the_spec_enum_is_cmn_101(
    http: httpx.AsyncClient, alex: dict[str, str], name: str, value: str
) -> None:
    answer = await http.get(NUMBERS, params={name: value}, headers=alex)
    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        {
            "errorCode": "CMN-101",
            "message": f"Parameter [{name}] value is invalid.",
            "parameterName": name,
            "parameterValue": value,
        }
    ]


async def test_a_user_without_the_permission_gets_cmn_408(http: httpx.AsyncClient, emu: Running) -> None:
    blair = await bearer(http, emu, BLAIR)
    answer = await http.get(NUMBERS, headers=blair)
    assert answer.status_code == 403
    message = (
        "In order to call this API endpoint, user needs to have [ReadCompanyPhoneNumbers] "
        "permission for requested resource."
    )
    assert answer.json() == {
        "errorCode": "CMN-408",
        "message": message,
        "errors": [{"errorCode": "CMN-408", "message": message, "permissionName": "ReadCompanyPhoneNumbers"}],
        "permissionName": "ReadCompanyPhoneNumbers",
    }
    assert answer.headers["X-Rate-Limit-Group"] == "heavy"
    directory = await http.get("/restapi/v1.0/account/~/directory/entries", headers=blair)
    assert directory.status_code == 200  # where a normal user finds the company's numbers instead
