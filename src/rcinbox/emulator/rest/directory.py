"""The company directory: ``GET /restapi/v1.0/account/{accountId}/directory/entries`` (Medium).

Every user of the account may read it (unlike the account's phone-number list, which needs an
admin): one ``ContactResource`` per extension with its numbers (``AdgPhoneNumberResource``), and
the ``account`` section with its ``mainNumber`` (the first of the account's company numbers).
Answers are ``DirectoryResource`` pages (``EnumeratedPagingModel``); ``perPage`` may be a number
(1 to 2000, a page holds at most 1000) or ``all``/``max``; ``type`` and ``typeGroup`` filter.
"""

from __future__ import annotations

from typing import Any

from rcinbox.emulator.model import Extension, PhoneNumber
from rcinbox.emulator.rest.paging import Page, PerPage
from rcinbox.emulator.routing import Call, Routes
from rcinbox.emulator.wire import ApiResponse, invalid_parameter, json_response
from rcinbox.emulator.world import World

routes = Routes()

ENTRIES = "/restapi/v1.0/account/{accountId}/directory/entries"
# listDirectoryEntries: an integer up to 2000 (default 1000) or "all"/"max"; the answer's
# EnumeratedPagingModel holds at most 1000 a page
PER_PAGE = PerPage(maximum=1000, default=1000, ceiling=2000, keywords=frozenset({"all", "max"}))
USER_TYPES = frozenset({"User"})


@routes.get(ENTRIES, group="Medium")
async def list_directory_entries(call: Call) -> ApiResponse:
    request, world = call.request, call.world
    page = Page.of(request, PER_PAGE)
    kind, group = request.arg("type"), request.arg("typeGroup")
    if group not in (None, "User", "NonUser"):
        raise invalid_parameter("typeGroup", group)
    entries = [
        ext
        for ext in sorted(world.extensions, key=lambda e: e.id)
        if (kind is None or ext.type == kind)
        and (group is None or (ext.type in USER_TYPES) == (group == "User"))
    ]
    federated = request.arg("showFederated") != "false"
    records = [entry_json(world, ext, federated) for ext in page.slice(entries)]
    return json_response({"paging": page.paging(len(entries)), "records": records})


def entry_json(world: World, ext: Extension, federated: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": str(ext.id),
        "type": ext.type,
        "status": ext.status,
        "extensionNumber": ext.extension_number,
        "phoneNumbers": [_number(pn.phone_number, pn.usage_type, pn) for pn in ext.phone_numbers],
    }
    if ext.type in USER_TYPES:
        record["firstName"], record["lastName"] = ext.first_name or ext.name, ext.last_name
    else:
        record["name"] = ext.name
    if ext.email:
        record["email"] = ext.email
    if federated:
        account: dict[str, Any] = {"id": str(world.account_id)}
        if world.company_numbers:
            account["mainNumber"] = _number(world.company_numbers[0], "MainCompanyNumber", None)
        record["account"] = account
    return record


def _number(number: str, usage: str, pn: PhoneNumber | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"phoneNumber": number, "e164": number, "usageType": usage}
    if pn is not None:
        entry["type"] = pn.type
        entry["primary"] = pn.primary
        if pn.label:
            entry["label"] = pn.label
    return entry
