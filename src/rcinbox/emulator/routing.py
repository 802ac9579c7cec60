"""Route table for the emulated REST API.

Each API module owns a :class:`Routes` and registers handlers with a decorator that names
the RingCentral throttling group (from the spec's ``x-throttling-group``) and whether a
bearer token is required::

    routes = Routes()

    @routes.get("/restapi/v1.0/account/{accountId}/extension/{extensionId}", group="Light")
    async def read_extension(call: Call) -> ApiResponse: ...

Path parameters arrive in ``call.params``; ``~`` in ``accountId``/``extensionId`` has already
been resolved to the token's ids by the dispatcher.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NotRequired, TypedDict, Unpack

from rcinbox.emulator.wire import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from rcinbox.emulator.model import Session
    from rcinbox.emulator.world import World

Group = Literal["Light", "Medium", "Heavy", "Auth", "NoThrottling"]
Auth = Literal["bearer", "client", "none"]


@dataclass
class Call:
    """Everything a handler needs: the world, the request, path params and the caller's session."""

    world: World
    request: ApiRequest
    params: dict[str, str]
    session: Session | None  # set for auth="bearer" routes

    @property
    def extension_id(self) -> int:
        return int(self.params["extensionId"])

    @property
    def account_id(self) -> int:
        return int(self.params["accountId"])

    @property
    def caller(self) -> Session:
        assert self.session is not None, "route declared without auth='bearer'"
        return self.session


Handler = Callable[[Call], Awaitable[ApiResponse]]


class RouteOptions(TypedDict):
    group: Group  # the spec's x-throttling-group
    auth: NotRequired[Auth]  # default "bearer"
    media: NotRequired[bool]  # default False


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler
    group: Group
    auth: Auth
    media: bool = False  # served by the media host in production (content download)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None


def compile_template(template: str) -> re.Pattern[str]:
    regex = re.sub(
        r"\{(\w+)\}", r"(?P<\1>[^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
    )
    return re.compile(regex + "/?")


@dataclass
class Routes:
    routes: list[Route] = field(default_factory=list)

    def add(
        self, method: str, template: str, *, group: Group, auth: Auth = "bearer", media: bool = False
    ) -> Callable[[Handler], Handler]:
        """Register a handler for ``method`` on ``template`` (the verbs below say the same shorter)."""

        def register(handler: Handler) -> Handler:
            self.routes.append(
                Route(method, template, compile_template(template), handler, group, auth, media)
            )
            return handler

        return register

    def get(self, template: str, **options: Unpack[RouteOptions]) -> Callable[[Handler], Handler]:
        return self.add("GET", template, **options)

    def post(self, template: str, **options: Unpack[RouteOptions]) -> Callable[[Handler], Handler]:
        return self.add("POST", template, **options)

    def put(self, template: str, **options: Unpack[RouteOptions]) -> Callable[[Handler], Handler]:
        return self.add("PUT", template, **options)

    def patch(self, template: str, **options: Unpack[RouteOptions]) -> Callable[[Handler], Handler]:
        return self.add("PATCH", template, **options)

    def delete(self, template: str, **options: Unpack[RouteOptions]) -> Callable[[Handler], Handler]:
        return self.add("DELETE", template, **options)

    def include(self, other: Routes) -> None:
        self.routes.extend(other.routes)

    def find(self, method: str, path: str) -> Match | Miss:
        """The route serving ``method`` on ``path``, else the methods ``path`` is served with."""
        allowed: set[str] = set()
        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                return Match(route, params)
            if route.pattern.fullmatch(path):
                allowed.add(route.method)
        return Miss(tuple(sorted(allowed)))


@dataclass(frozen=True)
class Match:
    route: Route
    params: dict[str, str]


@dataclass(frozen=True)
class Miss:
    """No route for the method and path: ``allowed`` are the path's methods (the ``Allow`` header
    of a 405); none when the path is unknown (404)."""

    allowed: tuple[str, ...]


__all__ = ["ApiRequest", "Call", "Group", "Handler", "Match", "Miss", "Route", "Routes"]
