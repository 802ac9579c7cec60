"""The emulator's one request/response shape, shared by the HTTP server and the WebSocket gateway.

Both transports turn what they receive into an :class:`ApiRequest`, call
:meth:`rcinbox.emulator.dispatch.Dispatcher.handle`, and turn the :class:`ApiResponse`
back into their own framing. Errors are raised as :class:`ApiError` (REST shape) or
:class:`OAuthError` (RFC 6749 shape plus RingCentral's ``errors[]``) and rendered here,
so every error body the emulator sends has RingCentral's exact shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

import orjson

Transport = Literal["http", "ws"]


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case keys
    body: bytes = b""
    transport: Transport = "http"
    client: str = "-"  # peer address, for logs

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def arg(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return default

    def args(self, name: str) -> list[str]:
        """All values of a repeated query key (``messageType=SMS&messageType=Pager``)."""
        return [value for key, value in self.query if key == name]

    def json(self) -> Any:
        """The body as JSON, or CMN-103 exactly as RingCentral answers unparseable JSON.

        A body declared as something other than JSON is refused with 415; a body without a
        content type (WebSocket ``ClientRequest`` frames) is read as JSON.
        """
        if not self.body.strip():
            return {}
        if self.content_type and not _is_json(self.content_type):
            raise unsupported_media_type("application/json")
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise ApiError(400, "CMN-103", "JSON can't be parsed.") from None

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))


@dataclass
class ApiResponse:
    status: int = 200
    body: bytes = b""
    content_type: str | None = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> ApiResponse:
    return ApiResponse(status=status, body=orjson.dumps(payload), headers=dict(headers or {}))


def empty_response(status: int = 204) -> ApiResponse:
    return ApiResponse(status=status, body=b"", content_type=None)


class ApiError(Exception):
    """A RingCentral REST error: top-level ``errorCode``/``message`` and the same in ``errors[]``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        parameter: str | None = None,
        value: str | None = None,
        headers: dict[str, str] | None = None,
        outer_code: str | None = None,
        details: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.outer_code = outer_code or code  # e.g. "TokenInvalid" around an inner OAU-213
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter
        self.value = value
        self.headers = dict(headers or {})
        self.details = dict(details or {})  # more fields, in errors[0] and at the top (permissionName)

    def payload(self) -> dict[str, Any]:
        inner: dict[str, Any] = {"errorCode": self.code, "message": self.message, **self.details}
        if self.parameter is not None:
            inner["parameterName"] = self.parameter
            if self.value is not None:
                inner["parameterValue"] = self.value
        body: dict[str, Any] = {"errorCode": self.outer_code, "message": self.message, "errors": [inner]}
        if self.parameter is not None:
            body["parameterName"] = self.parameter
        return body | self.details

    def response(self) -> ApiResponse:
        return json_response(self.payload(), self.status, self.headers)


class OAuthError(ApiError):
    """An OAuth endpoint error: ``error``/``error_description`` plus RingCentral's ``errors[]``."""

    def __init__(
        self, status: int, error: str, code: str, message: str, *, parameter: str | None = None
    ) -> None:
        super().__init__(status, code, message, parameter=parameter)
        self.error = error

    def payload(self) -> dict[str, Any]:
        inner: dict[str, Any] = {"errorCode": self.code, "message": self.message}
        if self.parameter is not None:
            inner["parameters"] = [{"parameterName": self.parameter, "parameterValue": ""}]
        return {"error": self.error, "errors": [inner], "error_description": self.message}


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


# Errors used in several modules, spelled once.
def unsupported_media_type(accepted: str) -> ApiError:
    """415; the message follows RingCentral's observed wording (ringcentral-extensible#59)."""
    return ApiError(415, "CMN-415", f"Unsupported content-type. Accept: {accepted}")


def not_found(parameter: str, value: str = "") -> ApiError:
    return ApiError(
        404, "CMN-102", f"Resource for parameter [{parameter}] is not found", parameter=parameter, value=value
    )


def invalid_parameter(parameter: str, value: str | None = None, status: int = 400) -> ApiError:
    return ApiError(
        status, "CMN-101", f"Parameter [{parameter}] value is invalid.", parameter=parameter, value=value
    )


def permission_required(permission: str) -> ApiError:
    """403 CMN-408: the user lacks a user permission (the platform's wording and ``permissionName``)."""
    return ApiError(
        403,
        "CMN-408",
        f"In order to call this API endpoint, user needs to have [{permission}] permission for "
        "requested resource.",
        details={"permissionName": permission},
    )


def mandatory(parameter: str) -> ApiError:
    return ApiError(400, "CMN-100", f"Parameter [{parameter}] is not specified.", parameter=parameter)


def is_ascii_int(raw: str) -> bool:
    """``0``-``9`` only: ``str.isdigit`` also accepts ``²`` and other digits ``int()`` refuses."""
    return raw.isascii() and raw.isdigit()


def pretty(payload: Any) -> str:
    """JSON for humans (used by logs and the CLI)."""
    return json.dumps(payload, indent=2, sort_keys=True)
