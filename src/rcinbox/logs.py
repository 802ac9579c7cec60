"""Logging: one readable line per record, named loggers, and no secret ever printed.

Loggers: ``rcinbox.emulator`` (the emulator), ``rcinbox.platform`` (REST/auth client),
``rcinbox.transport`` (WebSocket/WebHook), ``rcinbox.pipeline`` (store, decisions, outbox).
"""

from __future__ import annotations

import logging
import re
import sys

# Names whose values are credentials: in a query string or form (``name=value``), as a quoted key
# (JSON, a Python repr: ``"name": "value"``), or as an HTTP header (``Name: value``).
_NAMES = r"access_token|refresh_token|ws_access_token|id_token|assertion|client_secret|password|token|jwt|wsc"
_HEADERS = r"authorization|verification-token"
_VALUE = r"[A-Za-z0-9._~+/=%-]{6,}"
# After "Bearer"/"Basic": a credential, not an English word ("Basic authentication failed").
_CREDENTIAL = r"(?=[A-Za-z0-9._~+/=%-]{6,})(?:[A-Za-z]*[0-9._~+/=%-][A-Za-z0-9._~+/=%-]*|[A-Za-z]{20,})"
# Only values are masked; the names, the punctuation and the words around them stay readable
# ("POST /restapi/oauth/token: ConnectError: ..." keeps the error's name).
_SECRETS = [
    re.compile(rf"(?i)(?<![A-Za-z0-9_])((?:{_NAMES})=)([^&\s\"',;)]+)"),  # name=value
    re.compile(rf"(?i)([\"'](?:{_NAMES})[\"']\s*:\s*[\"'])([^\"']+)"),  # "name": "value"
    re.compile(rf"(?i)(?<![A-Za-z0-9_-])((?:{_HEADERS})\s*:\s*(?:(?:bearer|basic)\s+)?)({_VALUE})"),
    re.compile(rf"(?i)(?<![A-Za-z0-9_])((?:bearer|basic)\s+)({_CREDENTIAL})"),  # Authorization schemes
    re.compile(r"()(eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9._-]{4,})"),  # anything shaped like a JWT
    re.compile(r"(://[^:/@\s]+:)([^@/\s]+)(?=@)"),  # the password of scheme://user:password@host
]


def redact(text: str) -> str:
    """Replace every credential value in ``text`` with ``***`` (its name stays)."""
    for pattern in _SECRETS:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup(level: str = "INFO", stream: object = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)-5s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger("rcinbox")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
