"""Logging: one line per record, named loggers, and no secret ever printed.

Loggers: ``rcinbox.emulator`` (the emulator), ``rcinbox.platform`` (REST/auth client),
``rcinbox.transport`` (WebSocket/WebHook), ``rcinbox.pipeline`` (store, decisions, outbox).
uvicorn's own loggers (``uvicorn.error``, ``uvicorn.access``) write through the same handler.

Two formats (``RCINBOX_LOG_FORMAT``): ``text``, a readable line, and ``json``, one JSON object per
line (``time`` in ISO 8601 UTC, ``level``, ``logger``, ``message``, the structured extras the log
call carries, such as ``action``, and ``exception`` with the traceback). Both are redacted alike:
the text line as a whole, and in JSON every string in it (an extra named like a credential is
masked whole), so the redaction never breaks the JSON.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

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


# What every LogRecord has; anything else on a record is an extra the log call passed.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
_SECRET_KEY = re.compile(rf"(?i)^(?:{_NAMES}|{_HEADERS}|secret|credential|authorization)$")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line; every string in it redacted."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = "***" if _SECRET_KEY.match(key) else _plain(value)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def _plain(value: object) -> object:
    """An extra as JSON: numbers, booleans and null as they are, anything else as redacted text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(value if isinstance(value, str) else str(value))


def formatter(fmt: str = "text") -> logging.Formatter:
    """The formatter of ``RCINBOX_LOG_FORMAT`` (``text`` or ``json``)."""
    if fmt == "json":
        return JsonFormatter()
    return RedactingFormatter("%(asctime)s %(levelname)-5s %(name)s: %(message)s", "%H:%M:%S")


def setup(level: str = "INFO", stream: object = None, fmt: str = "text") -> None:
    """rcinbox's loggers and uvicorn's write ``fmt`` lines to ``stream`` (stderr) from ``level`` up."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(formatter(fmt))
    for name in ("rcinbox", "uvicorn"):
        root = logging.getLogger(name)
        root.handlers[:] = [handler]
        root.propagate = False
    logging.getLogger("rcinbox").setLevel(level.upper())
