"""``perPage`` as the platform takes it, on every list the emulator serves: one row per endpoint, as
in the table of docs/emulator.md ("Paging"). ``max`` is the page maximum (the JS SDK's README sends
``perPage=max``), a number over the maximum gets the maximum where the spec says so, ``0`` answers
the counts only where the paging model allows it, and junk is CMN-101."""

from __future__ import annotations

import httpx
import pytest
from messaging_kit import ALEX, ME, STORE

from rcinbox.emulator.model import Contact
from rcinbox.emulator.runner import Running

ACCOUNT = "/restapi/v1.0/account/~"
VALUES = ("max", "MAX", "1001", "5000", "0", "all", "ten", "-1", "1.5")
ERROR = "CMN-101"

# what each list answers to each of VALUES: the page size it applied (paging.perPage), or the error
ROWS = {
    "extension phone numbers": (ME + "/phone-number", (1000, 1000, 1000, 1000, ERROR, ERROR) + (ERROR,) * 3),
    "account phone numbers": (
        ACCOUNT + "/phone-number",
        (1000, 1000, 1000, 1000, ERROR, ERROR) + (ERROR,) * 3,
    ),
    "personal contacts": (ME + "/address-book/contact", (1000, 1000, 1000, 1000, 0, ERROR) + (ERROR,) * 3),
    "message store": (STORE, (1000, 1000, 1000, 1000, 0, ERROR) + (ERROR,) * 3),
    "company directory": (
        ACCOUNT + "/directory/entries",
        (1000, 1000, 1000, ERROR, ERROR, 1000) + (ERROR,) * 3,
    ),
}


async def applied(http: httpx.AsyncClient, path: str, value: str, alex: dict[str, str]) -> int | str:
    answer = await http.get(path, params={"perPage": value}, headers=alex)
    body = answer.json()
    if answer.status_code != 200:
        assert answer.status_code == 400, answer.text
        assert body["errors"][0]["parameterName"] == "perPage"
        assert body["errors"][0]["parameterValue"] == value
        return str(body["errorCode"])
    per_page: int = body["paging"]["perPage"]
    assert len(body["records"]) <= per_page
    return per_page


@pytest.mark.parametrize("row", list(ROWS))
async def test_each_list_reads_per_page_as_its_spec_says(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str], row: str
) -> None:
    path, expected = ROWS[row]
    observed = tuple([await applied(http, path, value, alex) for value in VALUES])
    assert dict(zip(VALUES, observed, strict=True)) == dict(zip(VALUES, expected, strict=True))


async def test_the_js_sdk_readme_call_gets_every_number(
    http: httpx.AsyncClient, alex: dict[str, str]
) -> None:
    """``rcsdk.get('/restapi/v1.0/account/~/extension/~/phone-number', {perPage: 'max'})``."""
    answer = await http.get(ME + "/phone-number?perPage=max", headers=alex)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [r["phoneNumber"] for r in body["records"]] == ["+16505550100", "+16505550101"]
    assert body["paging"]["perPage"] == 1000
    assert body["navigation"]["firstPage"]["uri"].endswith("page=1&perPage=1000")


async def test_per_page_zero_answers_the_counts_only(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    sent = {"from": "+14155550100", "to": "+16505550100", "text": "count me"}
    assert (await http.post("/_emulator/inbound", json=sent)).status_code == 200
    for path, total in ((ME + "/address-book/contact", 4), (STORE, 1)):
        body = (await http.get(path, params={"perPage": 0}, headers=alex)).json()
        assert body["records"] == []
        assert body["paging"] == {"perPage": 0, "totalElements": total}
        assert body["navigation"] == {}


async def test_address_book_sync_applies_its_maximum_of_250(
    http: httpx.AsyncClient, emu: Running, alex: dict[str, str]
) -> None:
    ext = emu.world.extensions[ALEX]
    ext.contacts += [Contact(90_000 + n, first_name=f"Bulk {n}") for n in range(300)]
    sync = ME + "/address-book-sync"
    observed: dict[str, object] = {}
    for value in VALUES:
        answer = await http.get(sync, params={"syncType": "FSync", "perPage": value}, headers=alex)
        body = answer.json()
        observed[value] = len(body["records"]) if answer.status_code == 200 else body["errorCode"]
    assert observed == {
        "max": 250,
        "MAX": 250,
        "1001": 250,
        "5000": 250,
        "0": ERROR,
        "all": ERROR,
        "ten": ERROR,
        "-1": ERROR,
        "1.5": ERROR,
    }
    first = (await http.get(sync, params={"syncType": "FSync", "perPage": 5000}, headers=alex)).json()
    assert first["nextPageId"] == 251
    rest = await http.get(sync, params={"syncType": "FSync", "perPage": 5000, "pageId": 251}, headers=alex)
    assert len(rest.json()["records"]) == 304 - 250
