"""Logging: one readable line per record, named loggers, and no secret ever printed.

Loggers: ``rcinbox.emulator`` (the emulator), ``rcinbox.platform`` (REST/auth client),
``rcinbox.transport`` (WebSocket/WebHook), ``rcinbox.pipeline`` (store, decisions, outbox).
"""

from __future__ import annotations

import logging
import re
import sys

# Bearer tokens, refresh/access tokens, JWT assertions, passwords and basic credentials in any text.
_SECRET = re.compile(
    r"(?i)(bearer\s+|basic\s+|(?:access_token|refresh_token|ws_access_token|assertion|client_secret|"
    r"password|token|jwt|wsc)[\"']?\s*[=:]\s*[\"']?)([A-Za-z0-9._~+/=-]{6,})"
)


def redact(text: str) -> str:
    """Replace anything that looks like a credential with ``***``."""
    return _SECRET.sub(lambda m: m.group(1) + "***", text)


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
