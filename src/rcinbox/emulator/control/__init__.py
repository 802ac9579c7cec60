"""The control API under ``/_emulator/`` (camelCase JSON), which tests, the demo and users drive:
``state`` (the account, texts in, texts out) and ``faults`` (injected failures)."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from rcinbox.emulator.wire import ApiResponse, to_response

log = logging.getLogger("rcinbox.emulator")


def answer(request: Request, response: ApiResponse, summary: str) -> Response:
    """Every control request is one log line: method, path, status and what it did."""
    log.info("HTTP %s %s -> %d (%s)", request.method, request.url.path, response.status, summary)
    return to_response(response)
