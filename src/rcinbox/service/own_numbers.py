"""The owner's and the company's own numbers, cached per extension (a reply must never go there).

For an extension: ``owner`` = its numbers (``GET …/extension/{id}/phone-number``); ``company`` =
the account's numbers when the platform lets us list them (``GET …/account/~/phone-number``, an
admin's right), else — for a normal user, who gets 403 there — every number of the company
directory (``GET …/account/~/directory/entries``, open to every user: colleagues' numbers and the
account's main number); plus the extension's numbers whose ``usageType`` is a company one and
every other configured extension's numbers. The rules' ``contacts.company_numbers`` are added by
the pipeline (they change on a reload). Lists are cached for ``max_age`` (numbers rarely change);
a failure to read the extension's own numbers propagates (the message is retried), as do transient
errors; a refusal to list other numbers (403, 404…) is tolerated and remembered for ``max_age``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from rcinbox.clock import Clock
from rcinbox.errors import PlatformError, RateLimited, ServerError, Unauthorized

log = logging.getLogger("rcinbox.pipeline")

ACCOUNT_NUMBERS = "/restapi/v1.0/account/~/phone-number"
DIRECTORY = "/restapi/v1.0/account/~/directory/entries"
DIRECTORY_PAGES = 50  # at 1000 entries a page: far beyond any account rcinbox serves
COMPANY_USAGE = frozenset(
    {
        "MainCompanyNumber",
        "AdditionalCompanyNumber",
        "CompanyNumber",
        "CompanyFaxNumber",
        "ContactCenterNumber",
    }
)


class NumberSource(Protocol):
    async def phone_numbers(self, ext: str = "~") -> list[dict[str, Any]]: ...

    async def get_json(self, path: str, params: Any = None) -> Any: ...


@dataclass(frozen=True)
class Numbers:
    owner: frozenset[str]
    company: frozenset[str]


@dataclass(frozen=True)
class _Cached:
    records: tuple[dict[str, Any], ...]
    at: datetime


class NumberBook:
    def __init__(
        self,
        client: NumberSource,
        extensions: Sequence[str],
        clock: Clock,
        company_numbers: Iterable[str] = (),
        *,
        max_age: timedelta = timedelta(hours=1),
    ) -> None:
        self.client = client
        self.extensions = tuple(extensions)
        self.clock = clock
        self.configured = frozenset(company_numbers)
        self.max_age = max_age
        self._cache: dict[str, _Cached] = {}

    async def for_extension(self, extension_id: str) -> Numbers:
        own = await self._records(extension_id, tolerate=False)
        company = (
            set(self.configured) | _company(own) | _numbers(await self._records("account", tolerate=True))
        )
        for other in self.extensions:
            if other != extension_id:
                records = await self._records(other, tolerate=True)
                company |= _numbers(records)
        return Numbers(owner=frozenset(_numbers(own)), company=frozenset(company))

    async def _records(self, key: str, *, tolerate: bool) -> tuple[dict[str, Any], ...]:
        cached = self._cache.get(key)
        if cached is not None and self.clock.now() - cached.at < self.max_age:
            return cached.records
        try:
            records = tuple(await self._fetch(key))
        except (ServerError, RateLimited, Unauthorized):
            raise  # transient: the message is retried
        except PlatformError as exc:  # 403/404/400…: this list is not available to us
            if not tolerate:
                raise
            log.info("cannot list numbers of %s: %s", key, exc, extra={"action": "numbers.unavailable"})
            records = ()
        self._cache[key] = _Cached(records, self.clock.now())
        return records

    async def _fetch(self, key: str) -> list[dict[str, Any]]:
        if key != "account":
            return await self.client.phone_numbers(key)
        try:
            body = await self.client.get_json(ACCOUNT_NUMBERS, {"perPage": 1000})
        except (ServerError, RateLimited, Unauthorized):
            raise
        except PlatformError as exc:  # a normal user may not list the account's numbers
            log.info(
                "cannot list the account's numbers (%s): reading the company directory",
                exc,
                extra={"action": "numbers.directory"},
            )
            return await self._directory()
        return _records(body)

    async def _directory(self) -> list[dict[str, Any]]:
        """Every number of the company directory: each entry's numbers and the main number."""
        numbers: list[dict[str, Any]] = []
        for page in range(1, DIRECTORY_PAGES + 1):
            body = await self.client.get_json(DIRECTORY, {"perPage": 1000, "page": page})
            for entry in _records(body):
                numbers += [n for n in entry.get("phoneNumbers") or [] if isinstance(n, dict)]
                account = entry.get("account")
                main = account.get("mainNumber") if isinstance(account, dict) else None
                if isinstance(main, dict):
                    numbers.append(main)
            paging = body.get("paging") if isinstance(body, dict) else None
            total = paging.get("totalPages") if isinstance(paging, dict) else None
            if not isinstance(total, int) or page >= total:
                break
        return numbers


def _records(body: Any) -> list[dict[str, Any]]:
    records = body.get("records") if isinstance(body, dict) else None
    return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []


def _numbers(records: Iterable[dict[str, Any]]) -> set[str]:
    return {str(r["phoneNumber"]) for r in records if isinstance(r.get("phoneNumber"), str)}


def _company(records: Iterable[dict[str, Any]]) -> set[str]:
    return _numbers(r for r in records if r.get("usageType") in COMPANY_USAGE)
