"""The account data API: extension info, the extension's phone numbers and its personal address book.

Endpoints (throttling groups as in the spec's ``x-throttling-group``):

- ``GET …/extension/{extensionId}`` (Light) → ``GetExtensionInfoResponse``
- ``GET …/extension/{extensionId}/phone-number`` (Light) → ``GetExtensionPhoneNumbersResponse``
- ``GET …/address-book/contact`` (Heavy) → ``ContactList``, filters ``phoneNumber`` (repeatable,
  E.164 match across the 12 phone fields), ``startsWith``, ``sortBy``, ``page``/``perPage``
- ``GET``/``DELETE …/address-book/contact/{contactId}`` (Heavy) → ``PersonalContactResource`` / 204
- ``GET …/address-book-sync`` (Heavy) → ``AddressBookSync``: FSync/ISync with opaque sync tokens;
  contacts deleted since the token come back as ``{id, uri, availability: "Deleted"}``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from rcinbox.emulator import phones
from rcinbox.emulator.data import PHONE_FIELDS
from rcinbox.emulator.model import Contact, Extension, PhoneNumber
from rcinbox.emulator.rest import sync_tokens
from rcinbox.emulator.rest.paging import Page, PerPage, positive_int
from rcinbox.emulator.routing import Call, Routes
from rcinbox.emulator.wire import (
    ApiResponse,
    empty_response,
    invalid_parameter,
    json_response,
    mandatory,
    not_found,
)
from rcinbox.emulator.world import World, iso

routes = Routes()

EXTENSION = "/restapi/v1.0/account/{accountId}/extension/{extensionId}"
CONTACTS = EXTENSION + "/address-book/contact"
SORT_KEYS = {"FirstName": "first_name", "LastName": "last_name", "Company": "company"}
CONTACT_FIELDS = {"firstName": "first_name", "lastName": "last_name", "company": "company", "email": "email"}
# perPage as each spec text reads it (docs/emulator.md, "Paging")
NUMBERS_PAGE = PerPage()  # listExtensionPhoneNumbers: default 100, EnumeratedPagingModel (1..1000)
CONTACTS_PAGE = PerPage(zero=True)  # listContacts: 1..1000, "the maximum value is applied"
SYNC_PAGE = PerPage(maximum=250, default=250)  # syncAddressBook: "Max number of records is 250"


def _country(number: str) -> dict[str, str] | None:
    if number.startswith("+1"):
        return {"id": "1", "uri": "/restapi/v1.0/dictionary/country/1", "name": "United States"}
    return None


@routes.get(EXTENSION, group="Light")
async def read_extension(call: Call) -> ApiResponse:
    world, ext = call.world, call.world.extension(call.extension_id)
    contact: dict[str, Any] = {"firstName": ext.first_name, "lastName": ext.last_name}
    if ext.email:
        contact["email"] = ext.email
    features = {"SMS": _can_send(ext, "SmsSender"), "MMS": _can_send(ext, "MmsSender")}
    return json_response(
        {
            "uri": world.url(world.account_path(ext.id)),
            "id": ext.id,
            "extensionNumber": ext.extension_number,
            "name": ext.name,
            "type": ext.type,
            "status": ext.status,
            "contact": contact,
            "account": {
                "id": str(world.account_id),
                "uri": world.url(f"/restapi/v1.0/account/{world.account_id}"),
            },
            "permissions": {"admin": {"enabled": ext.super_admin}},
            "serviceFeatures": [
                {"featureName": name, "enabled": enabled} for name, enabled in features.items()
            ],
            "setupWizardState": "Completed",
            "hidden": False,
        }
    )


def _can_send(ext: Extension, feature: str) -> bool:
    return any(feature in pn.features for pn in ext.phone_numbers)


def phone_number_json(world: World, ext: Extension, pn: PhoneNumber) -> dict[str, Any]:
    record: dict[str, Any] = {
        "uri": world.url(f"{world.account_path(ext.id)}/phone-number/{pn.id}"),
        "id": pn.id,
        "phoneNumber": pn.phone_number,
        "usageType": pn.usage_type,
        "paymentType": pn.payment_type,
        "type": pn.type,
        "status": "Normal",
        "primary": pn.primary,
        "features": list(pn.features),
    }
    country = _country(pn.phone_number)
    if country:
        record["country"] = {**country, "uri": world.url(country["uri"])}
    if pn.label:
        record["label"] = pn.label
    return record


@routes.get(EXTENSION + "/phone-number", group="Light")
async def list_phone_numbers(call: Call) -> ApiResponse:
    world, ext = call.world, call.world.extension(call.extension_id)
    page = Page.of(call.request, NUMBERS_PAGE)
    usage = set(call.request.args("usageType"))
    status = call.request.arg("status")
    numbers = [
        pn for pn in ext.phone_numbers if (not usage or pn.usage_type in usage) and status in (None, "Normal")
    ]
    path = f"{world.account_path(ext.id)}/phone-number"
    return json_response(
        page.render(world, path, call.request, numbers, lambda pn: phone_number_json(world, ext, pn))
    )


def contact_json(world: World, ext: Extension, contact: Contact) -> dict[str, Any]:
    """``PersonalContactResource``: only the fields that are set, like the platform."""
    record: dict[str, Any] = {
        "uri": world.url(f"{world.account_path(ext.id)}/address-book/contact/{contact.id}"),
        "id": contact.id,
        "availability": contact.availability,
    }
    if contact.availability != "Alive":
        return record
    for name, attr in CONTACT_FIELDS.items():
        value = getattr(contact, attr)
        if value:
            record[name] = value
    for name in PHONE_FIELDS:
        if contact.phones.get(name):
            record[name] = contact.phones[name]
    return record


def contact_fields(contact: Contact) -> dict[str, str]:
    """A contact as the control API lists it: camelCase, set fields only, no ids."""
    fields = {name: getattr(contact, attr) for name, attr in CONTACT_FIELDS.items() if getattr(contact, attr)}
    return {**fields, **{name: contact.phones[name] for name in PHONE_FIELDS if contact.phones.get(name)}}


def _matches(contact: Contact, numbers: set[str], prefix: str | None) -> bool:
    if contact.availability != "Alive":
        return False
    if numbers and not numbers.intersection(contact.phones.values()):
        return False
    if prefix:
        names = (contact.first_name or "", contact.last_name or "")
        return any(name.lower().startswith(prefix) for name in names)
    return True


@routes.get(CONTACTS, group="Heavy")
async def list_contacts(call: Call) -> ApiResponse:
    world, ext, request = call.world, call.world.extension(call.extension_id), call.request
    page = Page.of(request, CONTACTS_PAGE)
    numbers: set[str] = set()
    for raw in request.args("phoneNumber"):
        number = phones.e164(raw)
        if number is None:
            raise invalid_parameter("phoneNumber", raw)
        numbers.add(number)
    prefix = (request.arg("startsWith") or "").strip().lower() or None
    found = [c for c in ext.contacts if _matches(c, numbers, prefix)]
    for key in reversed(request.args("sortBy")):
        if key not in SORT_KEYS:
            raise invalid_parameter("sortBy", key)
        found.sort(key=_sort_key(SORT_KEYS[key]))
    path = f"{world.account_path(ext.id)}/address-book/contact"
    body = page.render(world, path, request, found, lambda c: contact_json(world, ext, c))
    body["groups"] = {"uri": world.url(f"{world.account_path(ext.id)}/address-book/group")}
    return json_response(body)


def _sort_key(attr: str) -> Callable[[Contact], tuple[str, int]]:
    def key(contact: Contact) -> tuple[str, int]:
        return ((getattr(contact, attr) or "\uffff").lower(), contact.id)

    return key


def _contact(call: Call) -> tuple[Extension, Contact]:
    ext = call.world.extension(call.extension_id)
    raw = call.params["contactId"]
    for contact in ext.contacts:
        if str(contact.id) == raw and contact.availability == "Alive":
            return ext, contact
    raise not_found("contactId", raw)


@routes.get(CONTACTS + "/{contactId}", group="Heavy")
async def read_contact(call: Call) -> ApiResponse:
    ext, contact = _contact(call)
    return json_response(contact_json(call.world, ext, contact))


@routes.delete(CONTACTS + "/{contactId}", group="Heavy")
async def delete_contact(call: Call) -> ApiResponse:
    ext, contact = _contact(call)
    contact.availability = "Deleted"
    contact.modified_at = call.world.now()
    call.world.mailbox.contacts_changed(ext.id)
    return empty_response(204)


def _token_time(ext: Extension, token: str) -> float:
    at = sync_tokens.position("AB1", ext.id, token)
    try:
        return float(at or "")
    except ValueError:  # not ours, or not a time
        raise invalid_parameter("syncToken", token) from None


@routes.get(EXTENSION + "/address-book-sync", group="Heavy")
async def sync_address_book(call: Call) -> ApiResponse:
    world, ext, request = call.world, call.world.extension(call.extension_id), call.request
    sync_type = sync_tokens.sync_type(request)
    per_page = SYNC_PAGE.read(request.arg("perPage"))
    offset = positive_int(request, "pageId", 1) - 1 if request.arg("pageId") else 0
    now = world.now()
    if sync_type == "ISync":
        token = request.arg("syncToken")
        if not token:
            raise mandatory("syncToken")
        since = _token_time(ext, token)
        records = [c for c in ext.contacts if c.modified_at >= since]
    else:
        records = [c for c in ext.contacts if c.availability == "Alive"]
    chunk = records[offset : offset + per_page]
    path = f"{world.account_path(ext.id)}/address-book-sync"
    body: dict[str, Any] = {
        "uri": _with_query(world.url(path), request.query),
        "records": [contact_json(world, ext, c) for c in chunk],
        "syncInfo": {
            "syncType": sync_type,
            "syncToken": sync_tokens.make("AB1", ext.id, repr(now)),
            "syncTime": iso(now),
            "olderRecordsExist": False,
        },
    }
    if offset + per_page < len(records):
        next_id = offset + per_page + 1
        body["nextPageId"] = next_id
        query = [(k, v) for k, v in request.query if k != "pageId"] + [("pageId", str(next_id))]
        body["nextPageUri"] = _with_query(world.url(path), query)
    return json_response(body)


def _with_query(url: str, query: Sequence[tuple[str, str]]) -> str:
    pairs = [(k, v) for k, v in query if k != "access_token"]
    return url + "?" + urlencode(pairs) if pairs else url
