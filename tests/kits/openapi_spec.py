"""Checks emulator responses against RingCentral's official OpenAPI spec (test side only).

The spec lives outside the repo (``../shared/ringcentral/rc-public-openapi.yml`` relative to the
repo root, or ``$RCINBOX_OPENAPI_SPEC``) and is never copied in. This module owns:

- :func:`spec_location` / :func:`require_spec` / :func:`load_spec`: where the spec is, what its
  absence means (a failure under ``CI=true``, a skip elsewhere) and loading it once;
- :class:`OpenApiSpec`: concrete path → spec path template, the response schema for a status and
  content type (falling back to the spec's own generic error responses when an operation lists
  none for an error status), and validation with ``$ref`` resolution through a ``referencing``
  registry and the OAS 3.0 read validator (``writeOnly`` properties must not appear in responses);
- :class:`Exchange` / :class:`Recorder`: an httpx response hook that records every REST answer
  the emulator gives, so a test can validate all of them after a scripted tour.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
import orjson
import pytest
import yaml
from jsonschema.exceptions import ValidationError, best_match
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry
from referencing.jsonschema import DRAFT4

SPEC_ENV = "RCINBOX_OPENAPI_SPEC"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = REPO_ROOT.parent / "shared" / "ringcentral" / "rc-public-openapi.yml"
BASE_URI = "urn:ringcentral:rc-public-openapi"
METHODS = ("get", "put", "post", "delete", "patch")

# The spec's own generic error responses (components/responses), used when an operation does not
# list the error status it answered with (e.g. createSMSMessage documents only 200).
GENERIC_ERRORS = {
    400: "InvalidRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
    500: "InternalError",
    502: "BadGateway",
    503: "ServiceNotAvailable",
}
OAUTH_ERROR = "OauthInvalidRequest"  # RFC 6749 error + errors[]; the spec's shape for OAuth endpoints


def spec_location(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get(SPEC_ENV) or DEFAULT_SPEC)


def require_spec(environ: Mapping[str, str] = os.environ) -> Path:
    """The spec's path; without the file, a failure under ``CI=true`` and a skip with the reason elsewhere."""
    path = spec_location(environ)
    if not path.is_file():
        reason = f"RingCentral's OpenAPI spec is not at {path} (set {SPEC_ENV} to its location)"
        if environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path


def load_spec(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=yaml.CSafeLoader)
    return document


def _pointer(*parts: str) -> str:
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in parts)
    return "/" + "/".join(quote(part, safe="~") for part in escaped)


@dataclass(frozen=True)
class Exchange:
    """One answer of the emulator: what was asked, and what came back."""

    method: str
    path: str
    status: int
    content_type: str  # media type without parameters, lower case; "" when absent
    body: bytes
    transport: Literal["http", "ws"] = "http"

    def describe(self) -> str:
        return f"{self.transport.upper()} {self.method} {self.path} -> {self.status}"


@dataclass(frozen=True)
class Operation:
    template: str
    method: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class ResponseSpec:
    """Where the expected body of one answer is described in the spec."""

    pointer: str  # JSON pointer into the spec document, "" when the spec describes no body
    media_types: tuple[str, ...]
    source: str  # for messages: "createSMSMessage 200", "generic NotFound", ...


class OpenApiSpec:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.registry: Registry[Any] = Registry().with_resource(BASE_URI, DRAFT4.create_resource(document))
        self._validators: dict[str, Any] = {}
        self._paths = sorted(
            ((self._compile(template), template) for template in document["paths"]),
            key=lambda item: -item[1].count("/") * 100 - len(re.sub(r"\{[^}]*\}", "", item[1])),
        )

    @staticmethod
    def _compile(template: str) -> re.Pattern[str]:
        parts = re.split(r"(\{[^}]+\})", template)
        regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        return re.compile(regex + "/?")

    # paths and operations
    def template_of(self, path: str) -> str | None:
        """The spec path template a concrete path falls under (most literal match wins)."""
        for pattern, template in self._paths:
            if pattern.fullmatch(path):
                return template
        return None

    def operation(self, method: str, path: str) -> Operation | None:
        template = path if path in self.document["paths"] else self.template_of(path)
        if template is None:
            return None
        spec = self.document["paths"][template].get(method.lower())
        return Operation(template, method.upper(), spec) if spec else None

    def _deref(self, node: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
        while "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            pointer = ref[1:]
            node = self.document
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node, pointer

    def response_spec(self, op: Operation, status: int) -> ResponseSpec | None:
        """The documented response for ``status`` (exact, ``4XX`` style, ``default``, generic errors)."""
        responses = op.spec.get("responses", {})
        name = op.spec.get("operationId", op.template)
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                base = _pointer("paths", op.template, op.method.lower(), "responses", key)
                node, pointer = self._deref(responses[key], base)
                found = self._content(node, pointer, f"{name} {key}")
                if found.media_types or status < 400:
                    return found
                break  # an error status documented without a body: the generic error model applies
        if status < 400:
            return None
        oauth = op.template.startswith("/restapi/oauth/") and status in (400, 401, 403)
        generic = OAUTH_ERROR if oauth else None
        generic = generic or GENERIC_ERRORS.get(status)
        if generic is None:
            return None
        node, pointer = self._deref(
            {"$ref": f"#/components/responses/{generic}"}, _pointer("components", "responses", generic)
        )
        return self._content(node, pointer, f"{name} {status} (generic {generic})")

    def _content(self, node: dict[str, Any], pointer: str, source: str) -> ResponseSpec:
        content = node.get("content") or {}
        json_type = next((mt for mt in content if _base(mt) == "application/json"), None)
        schema_pointer = pointer + _pointer("content", json_type, "schema") if json_type else ""
        return ResponseSpec(schema_pointer, tuple(content), source)

    # validation
    def validator(self, pointer: str) -> Any:
        if pointer not in self._validators:
            self._validators[pointer] = OAS30ReadValidator(
                {"$ref": f"{BASE_URI}#{pointer}"},
                registry=self.registry,
                format_checker=oas30_format_checker,
            )
        return self._validators[pointer]

    def schema_errors(self, pointer: str, instance: Any, limit: int = 6) -> list[str]:
        errors = sorted(self.validator(pointer).iter_errors(instance), key=lambda e: list(e.absolute_path))
        return [_describe(error) for error in errors[:limit]]

    def schema_pointer(self, name: str) -> str:
        return _pointer("components", "schemas", name)

    def check(self, exchange: Exchange) -> list[str]:
        """Everything wrong with one answer, as readable lines (empty when it matches the spec)."""
        op = self.operation(exchange.method, exchange.path)
        if op is None:
            return [f"{exchange.describe()}: the spec describes no {exchange.method} on this path"]
        expected = self.response_spec(op, exchange.status)
        if expected is None:
            return [f"{exchange.describe()}: status {exchange.status} is not documented for {op.template}"]
        if not exchange.body:
            return []
        if exchange.content_type != "application/json":
            return self._check_media(exchange, expected)
        if not expected.pointer:
            return [f"{exchange.describe()}: JSON body, but {expected.source} describes none"]
        try:
            instance = orjson.loads(exchange.body)
        except orjson.JSONDecodeError:
            return [f"{exchange.describe()}: body is not JSON: {exchange.body[:80]!r}"]
        problems = self.schema_errors(expected.pointer, instance)
        return [f"{exchange.describe()} vs {expected.source}: {p}" for p in problems]

    @staticmethod
    def _check_media(exchange: Exchange, expected: ResponseSpec) -> list[str]:
        if any(_media_matches(exchange.content_type, declared) for declared in expected.media_types):
            return []
        # PLATFORM.md §5.4: the content of a Text attachment is served as text/plain, which the
        # spec's readMessageContent (audio/*, image/*, video/*, application/pdf) does not list.
        if exchange.content_type == "text/plain" and "/content/" in exchange.path:
            return []
        declared = ", ".join(expected.media_types) or "no body"
        return [f"{exchange.describe()}: content type {exchange.content_type!r}; spec lists {declared}"]


def _base(media_type: str) -> str:
    return media_type.split(";")[0].strip().lower()


def _media_matches(actual: str, declared: str) -> bool:
    declared = _base(declared)
    if declared.endswith("/*"):
        return actual.startswith(declared[:-1])
    return actual == declared


def _describe(error: ValidationError) -> str:
    """Where and why; for ``oneOf``/``anyOf`` failures, the closest alternative's own reason."""
    text = f"at {_where(error.absolute_path)}: {_short(error.message)}"
    if error.context:
        closest = best_match(error.context)
        text += f" (closest: at {_where(closest.absolute_path)}: {_short(closest.message, 160)})"
    return text


def _where(path: Any) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _short(message: str, limit: int = 220) -> str:
    return message if len(message) <= limit else message[:limit] + "…"


@dataclass
class Recorder:
    """An httpx response hook recording every REST answer (control routes under ``/_emulator`` excluded)."""

    exchanges: list[Exchange] = field(default_factory=list)

    async def __call__(self, response: httpx.Response) -> None:
        path = response.request.url.path
        if path.startswith("/_emulator"):
            return
        await response.aread()
        self.exchanges.append(
            Exchange(
                method=response.request.method,
                path=path,
                status=response.status_code,
                content_type=_base(response.headers.get("content-type", "")),
                body=response.content,
            )
        )

    def add_ws(self, method: str, path: str, status: int, body: Any) -> None:
        """A ``ClientRequest`` answered over the WebSocket gateway (body already parsed)."""
        raw = orjson.dumps(body) if body is not None else b""
        self.exchanges.append(Exchange(method, path, status, "application/json", raw, "ws"))
