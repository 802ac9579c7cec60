"""Paging of REST lists: ``page``/``perPage`` as each endpoint's spec text reads them, and the
``paging`` and ``navigation`` objects.

Every list endpoint names its :class:`PerPage` rule; docs/emulator.md ("Paging") has the table of
what each one does with ``max``, a value over its maximum, ``0`` and junk, and why:

- ``max`` (any case: the JS SDK's README sends ``max``, RingCentral's own widgets ``MAX``) is the
  endpoint's maximum page size; the directory also takes ``all`` (its spec lists both keywords);
- a number over the maximum gets the maximum ("If the provided value in the request is greater
  than a maximum, the maximum value is applied"), unless the spec gives the parameter a hard
  ``maximum`` (the directory's 2000), above which it is CMN-101 like any invalid value;
- ``0`` asks for the counts only (the paging models: "page … may be omitted if … perPage=0 was
  requested") where the answer's paging model can carry ``perPage: 0``; elsewhere it is CMN-101;
- anything else that is not a whole number (``-1``, ``1.5``, ``ten``, ``²``) is CMN-101.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from rcinbox.emulator.wire import ApiRequest, invalid_parameter, is_ascii_int
from rcinbox.emulator.world import World

T = TypeVar("T")
INT32_MAX = 2**31 - 1
MAX_PAGE_NUMBER = 1000  # the paging models' and the contact list's ``page`` maximum


@dataclass(frozen=True)
class PerPage:
    """How one list endpoint reads ``perPage``."""

    maximum: int = 1000  # a page never holds more
    default: int = 100
    ceiling: int = INT32_MAX  # a larger number is refused (CMN-101); up to it, ``maximum`` applies
    zero: bool = False  # ``perPage=0`` answers the counts only
    keywords: frozenset[str] = frozenset({"max"})

    def read(self, raw: str | None) -> int:
        if raw is None or raw == "":
            return self.default
        if raw.lower() in self.keywords:
            return self.maximum
        if not is_ascii_int(raw) or int(raw) > self.ceiling or (int(raw) == 0 and not self.zero):
            raise invalid_parameter("perPage", raw)
        return min(int(raw), self.maximum)


def positive_int(request: ApiRequest, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    if not is_ascii_int(raw) or int(raw) < 1 or (maximum is not None and int(raw) > maximum):
        raise invalid_parameter(name, raw)
    return int(raw)


@dataclass(frozen=True)
class Page:
    number: int
    size: int  # 0: counts only

    @classmethod
    def of(cls, request: ApiRequest, rule: PerPage) -> Page:
        return cls(positive_int(request, "page", 1, MAX_PAGE_NUMBER), rule.read(request.arg("perPage")))

    def slice(self, items: Sequence[T]) -> list[T]:
        start = (self.number - 1) * self.size
        return list(items[start : start + self.size])

    def paging(self, total: int) -> dict[str, Any]:
        """``paging``: page numbers and element counts (``pageStart``/``pageEnd`` only when non-empty)."""
        if self.size == 0:  # no page at all: only how many there are
            return {"perPage": 0, "totalElements": total}
        pages = (total + self.size - 1) // self.size
        paging: dict[str, Any] = {"page": self.number, "totalPages": pages, "perPage": self.size}
        paging["totalElements"] = total
        start = (self.number - 1) * self.size
        if start < total:
            paging["pageStart"] = start
            paging["pageEnd"] = min(total, start + self.size) - 1
        return paging

    def navigation(self, world: World, path: str, request: ApiRequest, total: int) -> dict[str, Any]:
        if self.size == 0:
            return {}
        pages = max(1, (total + self.size - 1) // self.size)

        def uri(number: int) -> dict[str, str]:
            return {"uri": page_uri(world, path, request, number, self.size)}

        navigation = {"firstPage": uri(1)}
        if self.number < pages:
            navigation["nextPage"] = uri(self.number + 1)
        if 1 < self.number <= pages:
            navigation["previousPage"] = uri(self.number - 1)
        navigation["lastPage"] = uri(pages)
        return navigation

    def render(
        self, world: World, path: str, request: ApiRequest, items: Sequence[T], show: Callable[[T], Any]
    ) -> dict[str, Any]:
        """``{uri, records, paging, navigation}``; only this page's items are rendered with ``show``."""
        return {
            "uri": page_uri(world, path, request, self.number, self.size),
            "records": [show(item) for item in self.slice(items)],
            "paging": self.paging(len(items)),
            "navigation": self.navigation(world, path, request, len(items)),
        }


def page_uri(world: World, path: str, request: ApiRequest, page: int, per_page: int) -> str:
    query = [(k, v) for k, v in request.query if k not in ("page", "perPage", "access_token")]
    query += [("page", str(page)), ("perPage", str(per_page))]
    return world.url(path) + "?" + urlencode(query)
