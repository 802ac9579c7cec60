"""The emulator's one request/response shape, shared by the HTTP server and the WebSocket gateway.

Both transports turn what they receive into an :class:`ApiRequest`, call a :data:`Dispatch`
(:meth:`rcinbox.emulator.dispatch.Dispatcher.handle`), and turn the :class:`ApiResponse`
back into their own framing. Errors are raised as :class:`ApiError` (REST shape) or
:class:`OAuthError` (RFC 6749 shape plus RingCentral's ``errors[]``) and rendered here,
so every error body the emulator sends has RingCentral's exact shape.

The Starlette edge is here too (:func:`to_api_request`, :func:`to_response`, :func:`read_body`):
the REST app and the control API read and answer HTTP the same way.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response

Transport = Literal["http", "ws"]
MAX_BODY_BYTES = 20 * 1024 * 1024  # well above the 1.5 MB MMS limit; larger bodies are refused unread


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
        return loads(self.body)

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; any other JSON is CMN-103 too."""
        body = self.json()
        if not isinstance(body, dict):
            raise unparseable_json()
        return body

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


Dispatch = Callable[[ApiRequest], Awaitable[ApiResponse]]  # one API call, whichever transport carried it


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


def unparseable_json() -> ApiError:
    return ApiError(400, "CMN-103", "JSON can't be parsed.")


def loads(raw: bytes) -> Any:
    """JSON, or CMN-103 exactly as RingCentral answers unparseable JSON."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise unparseable_json() from None


def not_found(parameter: str, value: str | None = None) -> ApiError:
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


def encode_token(raw: bytes) -> str:
    """An opaque token: URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> bytes:
    """The bytes of :func:`encode_token`; ``ValueError`` for anything that is not one."""
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


# The Starlette edge
def to_api_request(request: Request, body: bytes) -> ApiRequest:
    return ApiRequest(
        method=request.method,
        path=request.url.path,
        query=tuple(request.query_params.multi_items()),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        transport="http",
        client=request.client.host if request.client else "-",
    )


def to_response(api: ApiResponse) -> Response:
    response = Response(api.body, status_code=api.status, headers=api.headers)
    if api.content_type:
        response.headers["content-type"] = api.content_type
    return response


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and is_ascii_int(declared) and int(declared) > limit:
        raise ApiError(413, "CMN-116", "Request entity too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "CMN-116", "Request entity too large")
        chunks.append(chunk)
    return b"".join(chunks)
