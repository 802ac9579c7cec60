"""The WebHook endpoint: RingCentral POSTs notifications to ``RCINBOX_WEBHOOK_URL``; the local
server answers at that URL's path (a reverse proxy may sit in front).

    Validation-Token header (subscription handshake) → echo it, 200, empty body, immediately
    otherwise: Verification-Token (constant time) → JSON envelope → InboundMessage
               → ``await sink.accept()`` (durably stored) → 200

Wrong or missing ``Verification-Token``: 401/403 and nothing is read further. A body that is not
a notification (not JSON, nested absurdly deep, no message id, …): 400 and nothing is stored. A
notification with odd content (lone surrogates, numbers out of range) is stored cleaned
(:mod:`rcinbox.events`) and answered 200, never 503 over and over. Other events (renewal
reminders, …) are acknowledged and ignored. No rule work happens here: the answer comes well
inside RingCentral's 3 s, and every answer stays far below its 1024-byte limit. The subscription
itself is managed by :mod:`rcinbox.transports.webhook_subscription`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rcinbox.clock import SYSTEM, Clock
from rcinbox.events import InboundMessage
from rcinbox.observe import NOBODY, Observer
from rcinbox.payload import decode
from rcinbox.transports import Sink, instant_message
from rcinbox.transports.status import StatusBoard

log = logging.getLogger("rcinbox.transport")

MAX_BODY_BYTES = 256 * 1024  # an instant-SMS notification is a few KB
ACCEPT_BUDGET = 2.5  # seconds: RingCentral gives up (and counts a failure) after 3


class InvalidToken(Exception):
    """The presented ``Verification-Token`` is missing or matches none of the accepted tokens."""

    def __init__(self, missing: bool) -> None:
        super().__init__("missing Verification-Token" if missing else "wrong Verification-Token")
        self.missing = missing


def verify(presented: str | None, accepted: Iterable[str]) -> None:
    """Constant-time check of the static shared secret RingCentral sends on every notification.
    Several tokens may be accepted at once (a subscription being replaced)."""
    if not presented:
        raise InvalidToken(missing=True)
    candidate = presented.encode()
    matched = False
    for token in accepted:
        matched |= hmac.compare_digest(candidate, token.encode())
    if not matched:
        raise InvalidToken(missing=False)


def _answer(
    status: int, payload: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode() if payload is not None else b""
    return Response(body, status_code=status, headers=headers, media_type="application/json")


async def _read_capped(request: Request, limit: int = MAX_BODY_BYTES) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def parse_notification(body: bytes) -> InboundMessage | None:
    """The message in a notification body; None for other events; ValueError for junk (whatever
    is wrong with it: :func:`rcinbox.payload.decode` and ``from_notification`` raise nothing else)."""
    envelope: Any = decode(body)
    if not isinstance(envelope, dict) or not isinstance(envelope.get("event"), str):
        raise ValueError("body is not a notification envelope")
    return instant_message(envelope, "webhook")


class WebhookEndpoint:
    """The ASGI endpoint; ``tokens`` returns the currently accepted verification tokens."""

    def __init__(
        self,
        sink: Sink,
        tokens: Callable[[], Iterable[str]],
        board: StatusBoard | None = None,
        accept_budget: float = ACCEPT_BUDGET,
        clock: Clock = SYSTEM,
        observer: Observer = NOBODY,  # the metrics: each answer's status and time
    ) -> None:
        self._sink = sink
        self._observer = observer
        self._tokens = tokens
        self._board = board
        self._budget = accept_budget
        self._clock = clock  # the time of the last notification (status)

    def route(self, path: str) -> Route:
        return Route(path or "/", self.handle, methods=["POST"], name="webhook")

    async def handle(self, request: Request) -> Response:
        began = self._clock.monotonic()
        response = await self._handle(request)
        self._observer.webhook_answered(response.status_code, self._clock.monotonic() - began)
        return response

    async def _handle(self, request: Request) -> Response:
        validation = request.headers.get("validation-token")
        if validation is not None:
            log.info("answered the webhook validation handshake", extra={"action": "webhook.handshake"})
            return _answer(200, headers={"Validation-Token": validation})
        try:
            verify(request.headers.get("verification-token"), self._tokens())
        except InvalidToken as exc:
            log.warning("refused a notification: %s", exc, extra={"action": "webhook.refused"})
            return _answer(401 if exc.missing else 403, {"error": str(exc)})
        return await self._notification(request)

    async def _notification(self, request: Request) -> Response:
        body = await _read_capped(request)
        if body is None:
            return _answer(413, {"error": "body too large"})
        try:
            message = parse_notification(body)
        except ValueError as exc:
            log.warning("refused a notification: %s", exc, extra={"action": "webhook.junk"})
            return _answer(400, {"error": "not a notification"})
        if message is None:
            return _answer(200)
        try:
            async with asyncio.timeout(self._budget):
                await self._sink.accept(message)
        except Exception as exc:  # not stored: say so, RingCentral counts it as a failed delivery
            log.error("could not store %r: %s", message, exc, extra={"action": "webhook.unstored"})
            if self._board is not None:  # never delivered again: the message-sync catch-up fetches it
                self._board.update(unstored=self._board.status.unstored + 1)
            return _answer(503, {"error": "not stored"})
        if self._board is not None:
            self._board.update(last_event_at=self._clock.now())
        return _answer(200)
