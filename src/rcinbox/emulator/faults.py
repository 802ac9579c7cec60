"""Injected HTTP faults: the next ``count`` requests whose method and path match answer ``status``
with a RingCentral error body, before routing or authentication.

``method`` is an HTTP method or ``*``. ``path`` is a glob over the request path (no query): ``*``
matches within one path segment, ``**`` across segments, ``?`` one character; a path starting
with ``^`` is a Python regular expression searched in the path instead. The first matching fault
is consumed. The control API that adds them (and the other faults) is
:mod:`rcinbox.emulator.control.faults`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeGuard

from rcinbox.emulator.changes import Changes
from rcinbox.emulator.wire import ApiError, ApiResponse, invalid_parameter

log = logging.getLogger("rcinbox.emulator")

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*")
DEFAULT_ERRORS = {
    400: ("CMN-101", "Parameter value is invalid."),
    401: ("OAU-213", "Token not found"),
    403: ("CMN-419", "Access denied"),
    404: ("CMN-102", "Resource is not found"),
    429: ("CMN-301", "Request rate exceeded"),
}


@dataclass
class HttpFault:
    method: str
    path: str
    pattern: re.Pattern[str]
    status: int
    error_code: str
    message: str
    remaining: int
    retry_after: int | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method):
            return False
        if self.path.startswith("^"):
            return self.pattern.search(path) is not None
        return self.pattern.fullmatch(path) is not None

    def response(self) -> ApiResponse:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        outer = "TokenInvalid" if self.error_code == "OAU-213" else None
        error = ApiError(self.status, self.error_code, self.message, headers=headers, outer_code=outer)
        return error.response()

    def describe(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "errorCode": self.error_code,
            "message": self.message,
            "count": self.remaining,
        }
        if self.retry_after is not None:
            body["retryAfter"] = self.retry_after
        return body


class Faults:
    """The injected HTTP faults; the dispatcher asks :meth:`take_http` before routing."""

    def __init__(self) -> None:
        self.http: list[HttpFault] = []
        self.served = Changes()  # a fault answered a request (tests wait on it)

    def take_http(self, method: str, path: str) -> ApiResponse | None:
        for fault in self.http:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.http.remove(fault)
                log.info("fault: %s %s answered %d %s", method, path, fault.status, fault.error_code)
                self.served.notify()
                return fault.response()
        return None

    def add_http(self, faults: list[HttpFault]) -> None:
        self.http.extend(faults)

    def clear(self) -> None:
        self.http.clear()

    def describe(self) -> list[dict[str, Any]]:
        return [fault.describe() for fault in self.http]


# --- control API input: the ``http`` list --------------------------------------------------


def compile_pattern(path: str) -> re.Pattern[str]:
    if path.startswith("^"):
        try:
            return re.compile(path)
        except re.error:
            raise invalid_parameter("http.path", path) from None
    tokens = re.split(r"(\*\*|\*|\?)", path)
    glob = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(glob.get(token) or re.escape(token) for token in tokens) + "/?")


def default_error(status: int) -> tuple[str, str]:
    if status in DEFAULT_ERRORS:
        return DEFAULT_ERRORS[status]
    if status >= 500:
        return "CMN-201", "Service Temporary Unavailable"
    try:
        return "CMN-101", HTTPStatus(status).phrase
    except ValueError:
        return "CMN-101", "Request failed"


def parse_http_fault(raw: Any) -> HttpFault:
    if not isinstance(raw, dict):
        raise invalid_parameter("http")
    method = str(raw.get("method", "*")).upper()
    path = raw.get("path")
    status = raw.get("status")
    count = raw.get("count", 1)
    if method not in METHODS:
        raise invalid_parameter("http.method", method)
    if not isinstance(path, str) or not path:
        raise invalid_parameter("http.path", str(path))
    if not is_int(status) or not 400 <= status <= 599:
        raise invalid_parameter("http.status", str(status))
    if not is_int(count) or count < 1:
        raise invalid_parameter("http.count", str(count))
    code, message = default_error(status)
    retry_after = raw.get("retryAfter", 60 if status in (429, 503) else None)
    if retry_after is not None and (not is_int(retry_after) or retry_after < 0):
        raise invalid_parameter("http.retryAfter", str(retry_after))
    error_code = raw.get("errorCode", code)
    message = raw.get("message", message)
    if not isinstance(error_code, str) or not isinstance(message, str):
        raise invalid_parameter("http.errorCode")
    return HttpFault(method, path, compile_pattern(path), status, error_code, message, count, retry_after)


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
