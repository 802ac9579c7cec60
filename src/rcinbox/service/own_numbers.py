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

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from rcinbox.clock import Clock
from rcinbox.errors import PlatformError, RateLimited, ServerError, Unauthorized
from rcinbox.wire import DirectoryPage, PhoneNumber

log = logging.getLogger("rcinbox.pipeline")

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
    """The :class:`~rcinbox.platform.client.PlatformClient` calls the book makes."""

    async def phone_numbers(self, ext: str = "~") -> Sequence[PhoneNumber]: ...

    async def account_numbers(self) -> Sequence[PhoneNumber]: ...

    async def directory_page(self, page: int) -> DirectoryPage: ...


@dataclass(frozen=True)
class Numbers:
    owner: frozenset[str]
    company: frozenset[str]


@dataclass(frozen=True)
class _Cached:
    records: tuple[PhoneNumber, ...]
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
        self._fetching: dict[str, asyncio.Lock] = {}  # one fetch per list at a time (lanes ask at once)

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

    async def _records(self, key: str, *, tolerate: bool) -> tuple[PhoneNumber, ...]:
        cached = self._fresh(key)
        if cached is not None:
            return cached
        async with self._fetching.setdefault(key, asyncio.Lock()):
            cached = self._fresh(key)  # fetched meanwhile by whoever held the lock
            if cached is not None:
                return cached
            return await self._refresh(key, tolerate=tolerate)

    def _fresh(self, key: str) -> tuple[PhoneNumber, ...] | None:
        cached = self._cache.get(key)
        if cached is not None and self.clock.now() - cached.at < self.max_age:
            return cached.records
        return None

    async def _refresh(self, key: str, *, tolerate: bool) -> tuple[PhoneNumber, ...]:
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

    async def _fetch(self, key: str) -> Sequence[PhoneNumber]:
        if key != "account":
            return await self.client.phone_numbers(key)
        try:
            return await self.client.account_numbers()
        except (ServerError, RateLimited, Unauthorized):
            raise
        except PlatformError as exc:  # a normal user may not list the account's numbers
            log.info(
                "cannot list the account's numbers (%s): reading the company directory",
                exc,
                extra={"action": "numbers.directory"},
            )
            return await self._directory()

    async def _directory(self) -> list[PhoneNumber]:
        """Every number of the company directory: each entry's numbers and the main number."""
        numbers: list[PhoneNumber] = []
        for page in range(1, DIRECTORY_PAGES + 1):
            body = await self.client.directory_page(page)
            for entry in body.records:
                numbers += entry.numbers
            total = body.paging.total_pages if body.paging else None
            if total is None or page >= total:
                break
        return numbers


def _numbers(records: Iterable[PhoneNumber]) -> set[str]:
    return {r.phone_number for r in records if r.phone_number is not None}


def _company(records: Iterable[PhoneNumber]) -> set[str]:
    return _numbers(r for r in records if r.usage_type in COMPANY_USAGE)
