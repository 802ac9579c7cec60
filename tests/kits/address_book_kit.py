"""Address-book answers for the ContactBook tests: two contacts as the platform lists them and
``page``, one answer of an address-book sync (FSync or ISync)."""

from __future__ import annotations

from typing import Any

CHARLIE = {
    "id": 11,
    "availability": "Alive",
    "firstName": "Charlie",
    "lastName": "Williams",
    "mobilePhone": "+14155550100",
}
ACME = {"id": 12, "availability": "Alive", "company": "Acme Supplies", "businessPhone": "+14155550103"}


def page(records: list[dict[str, Any]], token: str, kind: str = "FSync") -> dict[str, Any]:
    return {"records": records, "syncInfo": {"syncType": kind, "syncToken": token, "syncTime": "x"}}
