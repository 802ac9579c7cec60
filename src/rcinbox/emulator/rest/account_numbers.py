"""The account's phone numbers: ``GET /restapi/v1.0/account/{accountId}/phone-number`` (Heavy).

``listAccountPhoneNumbers`` → ``AccountPhoneNumbers`` ``{uri, records, paging, navigation}`` of
``CompanyPhoneNumberInfo``: first the company numbers (``companyNumbers`` in the data; the first
is the ``MainCompanyNumber``, the others ``AdditionalCompanyNumber``), then every extension's
numbers, each with its ``extension {id, uri, extensionNumber, name}``. Filters, as the spec lists
them: ``usageType``, ``paymentType`` and ``status`` (repeatable) and ``extensionStatus`` (numbers of
extensions in that status); a value outside the spec's enum is CMN-101. ``perPage`` as
:data:`PER_PAGE` says.

The spec asks for the user permission ``ReadCompanyPhoneNumbers`` (``x-user-permission``), which
only an administrator has here (``superAdmin``): anyone else gets 403 CMN-408, the platform's
answer to a missing user permission (rcinbox then reads the company directory instead).
"""

from __future__ import annotations

from typing import Any

from rcinbox.emulator.model import Extension, PhoneNumber
from rcinbox.emulator.rest.paging import Page, PerPage
from rcinbox.emulator.routing import Call, Routes
from rcinbox.emulator.wire import ApiResponse, invalid_parameter, json_response, permission_required
from rcinbox.emulator.world import World

routes = Routes()

NUMBERS = "/restapi/v1.0/account/{accountId}/phone-number"
PER_PAGE = PerPage()  # default 100; the answer's EnumeratedPagingModel holds at most 1000 a page
COMPANY_IDS = 1_000_001  # ids of the company numbers (extensions' numbers have theirs from the data)

# the spec's enums for the filters (PhoneNumberUsageType, PlatformPaymentType, PhoneNumberStatus,
# ExtensionStatusEnumFull)
USAGE_TYPES = frozenset(
    [
        "MainCompanyNumber",
        "AdditionalCompanyNumber",
        "CompanyNumber",
        "DirectNumber",
        "CompanyFaxNumber",
        "FmcBusinessMobileNumber",
        "InventoryFmcBusinessMobileNumber",
        "ForwardedNumber",
        "ForwardedCompanyNumber",
        "ContactCenterNumber",
        "ConferencingNumber",
        "MeetingsNumber",
        "NumberPool",
        "BusinessMobileNumber",
        "ELIN",
        "PartnerBusinessMobileNumber",
        "NumberPoolPartnerBusinessMobileNumber",
        "NumberStorage",
        "IntegrationNumber",
        "InventoryMobileNumber",
    ]
)
PAYMENT_TYPES = frozenset(
    [
        "External",
        "TollFree",
        "Local",
        "BusinessMobileNumberProvider",
        "ExternalNumberProvider",
        "ExternalNumberProviderTollFree",
        "Mobile",
    ]
)
STATUSES = frozenset({"Normal", "Pending", "PortedIn", "Temporary", "Unknown"})
EXTENSION_STATUSES = frozenset({"Enabled", "Disabled", "Frozen", "NotActivated", "Unassigned"})


@routes.get(NUMBERS, group="Heavy")
async def list_account_numbers(call: Call) -> ApiResponse:
    world, request = call.world, call.request
    if not world.extension(call.caller.extension_id).super_admin:
        raise permission_required("ReadCompanyPhoneNumbers")
    page = Page.of(request, PER_PAGE)
    usage = _choices(call, "usageType", USAGE_TYPES)
    payment = _choices(call, "paymentType", PAYMENT_TYPES)
    status = _choices(call, "status", STATUSES)
    ext_status = _choices(call, "extensionStatus", EXTENSION_STATUSES)
    numbers = [
        (ext, pn)
        for ext, pn in account_numbers(world)
        if (not usage or pn.usage_type in usage)
        and (not payment or pn.payment_type in payment)
        and (not status or "Normal" in status)
        and (not ext_status or (ext is not None and ext.status in ext_status))
    ]
    path = f"/restapi/v1.0/account/{world.account_id}/phone-number"
    return json_response(page.render(world, path, request, numbers, lambda item: _record(world, *item)))


def account_numbers(world: World) -> list[tuple[Extension | None, PhoneNumber]]:
    """The company numbers (no extension), then each extension's numbers."""
    company: list[tuple[Extension | None, PhoneNumber]] = [
        (None, _company_number(index, number)) for index, number in enumerate(world.company_numbers)
    ]
    return company + [(ext, pn) for ext in world.extensions for pn in ext.phone_numbers]


def _company_number(index: int, number: str) -> PhoneNumber:
    usage = "MainCompanyNumber" if index == 0 else "AdditionalCompanyNumber"
    return PhoneNumber(id=COMPANY_IDS + 7 * index, phone_number=number, usage_type=usage, primary=index == 0)


def _choices(call: Call, name: str, allowed: frozenset[str]) -> set[str]:
    values = set(call.request.args(name))
    for value in values - allowed:
        raise invalid_parameter(name, value)
    return values


def _record(world: World, ext: Extension | None, pn: PhoneNumber) -> dict[str, Any]:
    record: dict[str, Any] = {
        "uri": world.url(f"/restapi/v1.0/account/{world.account_id}/phone-number/{pn.id}"),
        "id": pn.id,
        "phoneNumber": pn.phone_number,
        "paymentType": pn.payment_type,
        "type": pn.type,
        "usageType": pn.usage_type,
        "status": "Normal",
        "primary": pn.primary,
    }
    if pn.label:
        record["label"] = pn.label
    if ext is not None:
        record["extension"] = {
            "id": ext.id,
            "uri": world.url(world.account_path(ext.id)),
            "extensionNumber": ext.extension_number,
            "name": ext.name,
        }
    return record
