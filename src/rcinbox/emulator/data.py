"""The emulated account: a built-in default, or a TOML/JSON file given with ``--data``.

File format (camelCase keys, as RingCentral spells them; every key but ``extensions`` is optional)::

    [app]
    clientId = "rcinbox-demo-client"
    clientSecret = "rcinbox-demo-secret"

    [account]
    id = 809646016
    companyNumbers = ["+16505550000"]     # numbers of the company (main number, call queues)

    [[extensions]]
    id = 62264425016
    extensionNumber = "101"
    name = "Alex Admin"
    jwt = "any opaque string the user logs in with"
    superAdmin = true                    # may subscribe to other extensions' events

      [[extensions.phoneNumbers]]
      phoneNumber = "+16505550100"
      features = ["CallerId", "SmsSender", "MmsSender"]   # default

      [[extensions.contacts]]
      firstName = "Charlie"
      lastName = "Williams"
      mobilePhone = "+14155550100"       # any of RingCentral's 12 phone fields
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rcinbox.emulator.model import App, Contact, Extension, PhoneNumber

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


class DataError(ValueError):
    """The ``--data`` file cannot be used; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _e164(value: str) -> str:
    if not (value.startswith("+") and value[1:].isascii() and value[1:].isdigit() and 8 <= len(value) <= 16):
        raise ValueError(f"{value!r} is not an E.164 number like +16505550100")
    return value


class PhoneNumberData(_Model):
    phoneNumber: str
    features: list[str] = Field(default_factory=lambda: ["CallerId", "SmsSender", "MmsSender"])
    usageType: str = "DirectNumber"
    label: str | None = None
    primary: bool = False

    @field_validator("phoneNumber")
    @classmethod
    def _phone(cls, value: str) -> str:
        return _e164(value)


class ContactData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    firstName: str | None = None
    lastName: str | None = None
    company: str | None = None
    email: str | None = None
    homePhone: str | None = None
    homePhone2: str | None = None
    businessPhone: str | None = None
    businessPhone2: str | None = None
    mobilePhone: str | None = None
    businessFax: str | None = None
    companyPhone: str | None = None
    assistantPhone: str | None = None
    carPhone: str | None = None
    otherPhone: str | None = None
    otherFax: str | None = None
    callbackPhone: str | None = None

    @field_validator(*PHONE_FIELDS)
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else _e164(value)


class ExtensionData(_Model):
    id: int
    extensionNumber: str
    name: str
    jwt: str = Field(min_length=8)
    superAdmin: bool = False
    email: str = ""
    phoneNumbers: list[PhoneNumberData] = Field(default_factory=list)
    contacts: list[ContactData] = Field(default_factory=list)


class AppData(_Model):
    clientId: str = "rcinbox-demo-client-id"
    clientSecret: str = "rcinbox-demo-client-secret"


class AccountData(_Model):
    id: int = 809646016
    companyNumbers: list[str] = Field(default_factory=list)

    @field_validator("companyNumbers")
    @classmethod
    def _numbers(cls, value: list[str]) -> list[str]:
        return [_e164(number) for number in value]


class WorldData(_Model):
    app: AppData = Field(default_factory=AppData)
    account: AccountData = Field(default_factory=AccountData)
    extensions: list[ExtensionData] = Field(min_length=1)


DEFAULT: dict[str, Any] = {
    "app": {"clientId": "rcinbox-demo-client-id", "clientSecret": "rcinbox-demo-client-secret"},
    "account": {"id": 809646016, "companyNumbers": ["+16505550000"]},
    "extensions": [
        {
            "id": 62264425016,
            "extensionNumber": "101",
            "name": "Alex Morgan",
            "email": "alex.morgan@example.com",
            "jwt": "eyJhbGciOiJFUzI1NiJ9.rcinbox-demo-jwt-alex-morgan-101",
            "superAdmin": True,
            "phoneNumbers": [
                {"phoneNumber": "+16505550100", "primary": True},
                {"phoneNumber": "+16505550101", "label": "Support line"},
            ],
            "contacts": [
                {"firstName": "Charlie", "lastName": "Williams", "mobilePhone": "+14155550100"},
                {"firstName": "Dana", "lastName": "Lopez", "mobilePhone": "+14155550101"},
                {"firstName": "Eli", "lastName": "Chen", "businessPhone": "+14155550102"},
                {"company": "Acme Supplies", "businessPhone": "+14155550103"},
            ],
        },
        {
            "id": 62264426016,
            "extensionNumber": "102",
            "name": "Blair Kim",
            "email": "blair.kim@example.com",
            "jwt": "eyJhbGciOiJFUzI1NiJ9.rcinbox-demo-jwt-blair-kim-102",
            "phoneNumbers": [{"phoneNumber": "+16505550102", "primary": True}],
            "contacts": [
                {"firstName": "Frankie", "lastName": "Diaz", "mobilePhone": "+14155550110"},
                {"firstName": "Charlie", "lastName": "Williams", "mobilePhone": "+14155550100"},
            ],
        },
        {
            "id": 62264427016,
            "extensionNumber": "103",
            "name": "Casey Fax",
            "email": "casey@example.com",
            "jwt": "eyJhbGciOiJFUzI1NiJ9.rcinbox-demo-jwt-casey-103",
            "phoneNumbers": [{"phoneNumber": "+16505550103", "features": ["CallerId"]}],  # no SmsSender
        },
    ],
}


def parse(raw: dict[str, Any], source: str = "built-in data") -> tuple[App, int, list[str], list[Extension]]:
    try:
        data = WorldData.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise DataError(f"{source}: {where}: {first['msg']}") from None
    _check_unique(data, source)
    next_id = iter(range(10_000_001, 99_999_999, 7))
    extensions = [
        Extension(
            id=ext.id,
            extension_number=ext.extensionNumber,
            name=ext.name,
            jwt=ext.jwt,
            first_name=ext.name.split(" ")[0],
            last_name=" ".join(ext.name.split(" ")[1:]),
            email=ext.email,
            super_admin=ext.superAdmin,
            phone_numbers=[
                PhoneNumber(
                    id=next(next_id),
                    phone_number=pn.phoneNumber,
                    features=list(pn.features),
                    usage_type=pn.usageType,
                    label=pn.label,
                    primary=pn.primary,
                )
                for pn in ext.phoneNumbers
            ],
            contacts=[_contact(next(next_id), c) for c in ext.contacts],
        )
        for ext in data.extensions
    ]
    app = App(client_id=data.app.clientId, client_secret=data.app.clientSecret)
    return app, data.account.id, list(data.account.companyNumbers), extensions


def _contact(contact_id: int, c: ContactData) -> Contact:
    phones = {name: getattr(c, name) for name in PHONE_FIELDS if getattr(c, name)}
    return Contact(contact_id, c.firstName, c.lastName, c.company, c.email, phones)


def _check_unique(data: WorldData, source: str) -> None:
    seen: dict[str, int] = {}
    for ext in data.extensions:
        for pn in ext.phoneNumbers:
            if pn.phoneNumber in seen:
                raise DataError(f"{source}: phone number {pn.phoneNumber} is assigned twice")
            seen[pn.phoneNumber] = ext.id
    ids = [ext.id for ext in data.extensions]
    if len(set(ids)) != len(ids):
        raise DataError(f"{source}: extension ids must be unique")


def load(path: Path | None) -> tuple[App, int, list[str], list[Extension]]:
    if path is None:
        return parse(DEFAULT)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"{path}: {exc}") from None
    return parse(raw, str(path))
