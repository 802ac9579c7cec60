"""Paging of REST lists: ``page``/``perPage`` query parsing, the ``paging`` and ``navigation`` objects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from rcinbox.emulator.wire import ApiRequest, invalid_parameter, is_ascii_int
from rcinbox.emulator.world import World

T = TypeVar("T")


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
    size: int

    @classmethod
    def of(cls, request: ApiRequest, default_size: int = 100, max_size: int = 1000) -> Page:
        return cls(
            positive_int(request, "page", 1, 1000), positive_int(request, "perPage", default_size, max_size)
        )

    def slice(self, items: Sequence[T]) -> list[T]:
        start = (self.number - 1) * self.size
        return list(items[start : start + self.size])

    def paging(self, total: int) -> dict[str, Any]:
        """``paging``: page numbers and element counts (``pageStart``/``pageEnd`` only when non-empty)."""
        pages = (total + self.size - 1) // self.size
        paging: dict[str, Any] = {"page": self.number, "totalPages": pages, "perPage": self.size}
        paging["totalElements"] = total
        start = (self.number - 1) * self.size
        if start < total:
            paging["pageStart"] = start
            paging["pageEnd"] = min(total, start + self.size) - 1
        return paging

    def navigation(self, world: World, path: str, request: ApiRequest, total: int) -> dict[str, Any]:
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
