"""What rcinbox reads from RingCentral's REST answers, as typed records (pydantic, frozen).

:class:`~rcinbox.platform.client.PlatformClient` parses every answer here, once, and hands out
these records; the service and the transports read attributes, never the JSON. Only the fields
rcinbox reads are declared (the rest is ignored); names are the snake_case of the platform's
camelCase. Times are read by :func:`rcinbox.timestamps.parse_time`.

The records are as forgiving as the code that read the JSON before them: a field of the wrong
type reads as absent (``None``, an empty tuple), an unreadable entry of a list is left out
(:func:`parse_items`), so an odd record is skipped or unmatched, never fatal. Only what a caller
cannot do without is required (a subscription's ``id``, the WebSocket token's ``uri``); an
answer without it fails validation, which the client reports as a ``PlatformError``.

Message records are kept whole as well (``raw``): a catch-up hands them to
:meth:`rcinbox.events.InboundMessage.from_record`, which parses a message for the archive.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from rcinbox.timestamps import maybe_time

__all__ = [
    "AddressBookSync",
    "ContactRecord",
    "DirectoryPage",
    "ExtensionInfo",
    "MessageRecord",
    "MessageSync",
    "Party",
    "PhoneNumber",
    "Subscription",
    "SyncInfo",
    "TokenAnswer",
    "WsToken",
    "parse_items",
]

R = TypeVar("R", bound=BaseModel)

PHONE_FIELDS = (
    "homePhone",
    "homePhone2",
    "businessPhone",
    "businessPhone2",
    "mobilePhone",
    "businessFax",
    "companyPhone",
    "assistantPhone",
    "carPhone",
    "otherPhone",
    "otherFax",
    "callbackPhone",
)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _id(value: object) -> str | None:
    """Ids are strings in notifications and int64 numbers in REST answers: both read as text."""
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _strings(value: object) -> tuple[str, ...] | None:
    return tuple(str(item) for item in value) if isinstance(value, list) else None


def _object(value: object) -> object:
    return value if isinstance(value, Mapping) else None


Text = Annotated[str | None, BeforeValidator(_text)]
Id = Annotated[str | None, BeforeValidator(_id)]
Int = Annotated[int | None, BeforeValidator(_int)]
Flag = Annotated[bool, BeforeValidator(lambda value: value is True)]
Strings = Annotated[tuple[str, ...] | None, BeforeValidator(_strings)]
Time = Annotated[datetime | None, BeforeValidator(maybe_time)]


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel, populate_by_name=True)


def parse_items(model: type[R], items: object) -> tuple[R, ...]:
    """The readable entries of a JSON list as ``model`` records (the others left out)."""
    if not isinstance(items, list):
        return ()
    return tuple(record for item in items if (record := _one(model, item)) is not None)


def _one(model: type[R], item: object) -> R | None:
    if not isinstance(item, Mapping):
        return None
    try:
        return model.model_validate(item)
    except ValidationError:
        return None


def _items(model: type[R]) -> Any:
    return BeforeValidator(lambda value: parse_items(model, value))


# ---- account ----


class ExtensionInfo(Record):
    id: Annotated[str, BeforeValidator(_id)]
    extension_number: Text = None
    name: Text = None


class PhoneNumber(Record):
    phone_number: Text = None
    usage_type: Text = None
    features: Annotated[tuple[str, ...], BeforeValidator(lambda value: _strings(value) or ())] = ()


class _Account(Record):
    main_number: Annotated[PhoneNumber | None, BeforeValidator(_object)] = None


class DirectoryEntry(Record):
    phone_numbers: Annotated[tuple[PhoneNumber, ...], _items(PhoneNumber)] = ()
    account: Annotated[_Account | None, BeforeValidator(_object)] = None

    @property
    def numbers(self) -> tuple[PhoneNumber, ...]:
        """The entry's numbers and its account's main number."""
        main = self.account.main_number if self.account else None
        return self.phone_numbers + ((main,) if main is not None else ())


class _Paging(Record):
    total_pages: Int = None


class DirectoryPage(Record):
    records: Annotated[tuple[DirectoryEntry, ...], _items(DirectoryEntry)] = ()
    paging: Annotated[_Paging | None, BeforeValidator(_object)] = None


# ---- messages ----


class Party(Record):
    phone_number: Text = None


class MessageRecord(Record):
    """A message-store / message-sync record (or the answer to a send); ``raw`` is the record."""

    id: Id = None
    direction: Text = None
    type: Text = None
    availability: Text = None
    from_: Annotated[Party | None, BeforeValidator(_object), Field(alias="from")] = None
    to: Annotated[tuple[Party, ...], _items(Party)] = ()
    subject: Text = None
    creation_time: Time = None
    raw: Mapping[str, Any] = Field(default_factory=dict, repr=False, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _keep_raw(cls, data: Any) -> Any:
        return {**data, "raw": data} if isinstance(data, Mapping) else data


class SyncInfo(Record):
    sync_type: Text = None
    sync_token: Text = None
    sync_time: Text = None  # kept as written: it is stored and echoed
    older_records_exist: Flag = False


class MessageSync(Record):
    uri: Text = None
    records: Annotated[tuple[MessageRecord, ...], _items(MessageRecord)] = ()
    sync_info: Annotated[SyncInfo, BeforeValidator(lambda value: _object(value) or {})] = SyncInfo()


# ---- contacts ----


class ContactRecord(Record):
    """An address-book record; ``phone_numbers``: its non-empty phone fields."""

    id: Id = None
    availability: Text = None
    first_name: Text = None
    last_name: Text = None
    nick_name: Text = None
    company: Text = None
    phone_numbers: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _phones(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        phones = tuple(v for f in PHONE_FIELDS if isinstance(v := data.get(f), str) and v.strip())
        return {**data, "phoneNumbers": phones}


class AddressBookSync(Record):
    records: Annotated[tuple[ContactRecord, ...], _items(ContactRecord)] = ()
    sync_info: Annotated[SyncInfo, BeforeValidator(lambda value: _object(value) or {})] = SyncInfo()
    next_page_id: Id = None


# ---- subscriptions ----


class DeliveryMode(Record):
    address: Text = None


class _Blacklisted(Record):
    reason: Text = None


class Subscription(Record):
    id: Annotated[str, BeforeValidator(_id)]
    status: Text = None
    expiration_time: Time = None
    event_filters: Strings = None
    delivery_mode: Annotated[DeliveryMode | None, BeforeValidator(_object)] = None
    blacklisted_data: Annotated[_Blacklisted | None, BeforeValidator(_object)] = None

    @property
    def address(self) -> str | None:
        return self.delivery_mode.address if self.delivery_mode else None

    @property
    def blacklisted_reason(self) -> str:
        return (self.blacklisted_data.reason if self.blacklisted_data else None) or ""


class WsToken(BaseModel):
    """``POST /restapi/oauth/wstoken``: one WebSocket connection's address and token."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    uri: Annotated[str, BeforeValidator(lambda value: str(value) if value is not None else value)]
    ws_access_token: Annotated[str, BeforeValidator(lambda value: str(value) if value is not None else value)]
    expires_in: Int = None


# ---- OAuth ----


def _text_or_empty(value: object) -> str:
    return str(value) if value else ""


class TokenAnswer(BaseModel):
    """``POST /restapi/oauth/token``: the session's tokens and lifetimes (seconds)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    access_token: Annotated[str, BeforeValidator(lambda value: str(value) if value is not None else value)]
    expires_in: float
    refresh_token: Annotated[str, BeforeValidator(_text_or_empty)] = ""
    refresh_token_expires_in: Annotated[float, BeforeValidator(lambda value: value or 0)] = 0.0
    owner_id: Annotated[str, BeforeValidator(_text_or_empty)] = ""
    scope: Annotated[str, BeforeValidator(_text_or_empty)] = ""
