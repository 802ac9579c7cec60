"""The WebSocket transport: RingCentral's WSG protocol as a client, after the reference JS
implementation (ringcentral-extensible ``@rc-ex/ws``) and PLATFORM.md §3.

One connection at a time:

    POST /restapi/oauth/wstoken → connect ``{uri}?access_token=…[&wsc=…]`` → read ``ConnectionDetails``
    (nothing is sent before it) → subscribe with a ``ClientRequest`` unless the session was
    recovered → read frames: each ``ServerNotification`` becomes an :class:`InboundMessage`, handed
    to ``sink.accept()`` together with the others received meanwhile (:mod:`rcinbox.transports.storing`:
    in order, each handled only once stored, a dropped connection's all stored before reconnecting)
    → ``Heartbeat`` well before the idle timeout.

A frame that cannot be read (not JSON, nested absurdly deep, not a notification rcinbox can
store) is logged in one line and skipped; the connection carries on. Any drop (network, ``Error``
WSG-902/903, server close) reconnects after an exponential backoff with jitter, with a fresh
wstoken (as RingCentral's session-recovery guide does it; the gateway would also take the previous
one within its lifetime, which ``@rc-ex/ws`` relies on) and ``&wsc=<token>``:
``recoveryState: Successful`` keeps the subscription (the gateway replays what was missed),
``Failed`` re-creates it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from rcinbox.backoff import Backoff
from rcinbox.clock import SYSTEM, Clock
from rcinbox.errors import RateLimited, TransportError
from rcinbox.events import InboundMessage
from rcinbox.payload import decode
from rcinbox.timestamps import maybe_time
from rcinbox.transports import Sink, WsTokenSource, instant_message
from rcinbox.transports.status import StatusBoard
from rcinbox.transports.storing import Storing
from rcinbox.waiting import wait_any

log = logging.getLogger("rcinbox.transport")

Frame = tuple[dict[str, Any], Any]
RECONNECT_CODES = frozenset({"WSG-902", "WSG-903"})  # idle / absolute timeout: reconnect and recover


@dataclass(frozen=True)
class ReconnectPolicy(Backoff):
    """The backoff between connection attempts, and how long the handshake and requests may take."""

    base_delay: float = 1.0
    max_delay: float = 60.0
    jitter: float = 0.2
    handshake_timeout: float = 30.0  # waiting for ConnectionDetails
    request_timeout: float = 30.0  # waiting for a ClientRequest answer


def heartbeat_interval(idle_timeout: float) -> float:
    """A third of the gateway's idle timeout, at most 10 minutes (what the SDKs use)."""
    return max(0.2, min(idle_timeout / 3, 600.0))


def parse_frame(raw: str | bytes) -> Frame:
    """``[meta]`` or ``[meta, body]`` → ``(meta, body)``; ValueError for anything else (not JSON,
    nested absurdly deep, …: :func:`rcinbox.payload.decode`)."""
    frame = decode(raw)
    if not isinstance(frame, list) or not frame or not isinstance(frame[0], dict):
        raise ValueError("not a WSG frame")
    return frame[0], frame[1] if len(frame) > 1 else None


@dataclass(frozen=True)
class Wsc:
    """The WebSocket session context token; the one with the highest sequence wins."""

    token: str
    sequence: int

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> Wsc | None:
        wsc = meta.get("wsc")
        if isinstance(wsc, dict) and isinstance(wsc.get("token"), str):
            seq = wsc.get("sequence")
            return cls(wsc["token"], seq if isinstance(seq, int) else 0)
        return None


class _Link:
    """One open connection: sends frames and matches ``ClientRequest`` answers by ``messageId``."""

    def __init__(self, ws: ClientConnection, timeout: float) -> None:
        self.ws = ws
        self.timeout = timeout
        self.closed = asyncio.Event()
        self._pending: dict[str, asyncio.Future[Frame]] = {}

    async def send(self, frame: list[Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def request(self, method: str, path: str, body: Any = None) -> Frame:
        message_id = str(uuid.uuid4())
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        meta = {"type": "ClientRequest", "messageId": message_id, "method": method, "path": path}
        try:
            await self.send([meta] if body is None else [meta, body])
            async with asyncio.timeout(self.timeout):
                return await future
        finally:
            self._pending.pop(message_id, None)

    def resolve(self, meta: dict[str, Any], body: Any) -> bool:
        future = self._pending.get(str(meta.get("messageId")))
        if future is None or future.done():
            return False
        future.set_result((meta, body))
        return True

    def close(self, reason: str) -> None:
        self.closed.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(TransportError(f"WebSocket closed: {reason}"))


class WebSocketTransport:
    """Receives instant-SMS notifications over one WebSocket subscription, forever, until ``stop``."""

    kind = "websocket"

    def __init__(
        self,
        tokens: WsTokenSource,
        sink: Sink,
        event_filters: Sequence[str],
        *,
        policy: ReconnectPolicy | None = None,
        resume: Wsc | None = None,
        clock: Clock = SYSTEM,
    ) -> None:
        """``resume``: a session context to recover first (like RCEX's ``wscToken`` option)."""
        self._tokens = tokens
        self._sink = sink
        self._filters = list(event_filters)
        self.policy = policy or ReconnectPolicy()
        self.board = StatusBoard("websocket")
        self._wsc = resume
        self._clock = clock  # the time of the last notification (status)
        self._established = False
        self._stop = asyncio.Event()
        self._storing = Storing(sink, self._deliver, self._lost)

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        failures = 1  # in a row; the drop of a working session counts as the first
        while not stop.is_set():
            self._established = False
            floor = 0.0
            try:
                await self._connect_once(stop)
                reason = "connection closed"
            except Exception as exc:  # the top of the reconnect loop: log, back off, retry
                reason, floor = _describe(exc), retry_after(exc)
                log.warning("WebSocket session ended: %s", reason, extra={"action": "ws.drop"})
            self.board.update(connected=False, reason=reason)
            if stop.is_set():
                break
            failures = 1 if self._established else failures + 1
            delay = max(floor, self.policy.delay(failures))
            log.info("reconnecting in %.1f s", delay, extra={"action": "ws.backoff"})
            await wait_any(stop, at_most=delay)

    async def _connect_once(self, stop: asyncio.Event) -> None:
        info = await self._tokens.ws_token()
        uri = info.uri
        recover = self._wsc
        url = f"{uri}{'&' if '?' in uri else '?'}access_token={quote(info.ws_access_token, safe='')}"
        if recover is not None:
            url += f"&wsc={quote(recover.token, safe='')}"
        async with connect(url, open_timeout=self.policy.handshake_timeout, max_size=2**22) as ws:
            details = await self._handshake(ws)
            link = _Link(ws, self.policy.request_timeout)
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._heartbeat(link, details), name="rcinbox.ws.heartbeat")
                tasks.create_task(self._close_on_stop(link, stop), name="rcinbox.ws.stop")
                tasks.create_task(self._start(link, details, recover), name="rcinbox.ws.subscribe")
                storer = tasks.create_task(self._storing.run(), name="rcinbox.ws.store")
                try:
                    await self._read(link)
                finally:
                    link.close("reader ended")
                    await self._storing.settle(storer)  # what it delivered is stored before reconnecting
                    storer.cancel()

    async def _handshake(self, ws: ClientConnection) -> dict[str, Any]:
        """Wait for ``ConnectionDetails`` (or an ``Error``) before sending anything."""
        async with asyncio.timeout(self.policy.handshake_timeout):
            while True:
                meta, body = parse_frame(await ws.recv())
                if meta.get("type") == "Error":
                    self._wsc = None  # e.g. WSG-400 (malformed wsc): the next attempt starts afresh
                    raise TransportError(f"WebSocket refused: {_error_text(meta, body)}")
                if meta.get("type") == "ConnectionDetails":
                    self._wsc = Wsc.from_meta(meta) or self._wsc
                    return body if isinstance(body, dict) else {}

    async def _start(self, link: _Link, details: Mapping[str, Any], recover: Wsc | None) -> None:
        state = details.get("recoveryState")
        known = self.board.status.subscription_id
        recovered = recover is not None and state == "Successful" and known is not None
        if recover is not None:
            log.info("session recovery: %s", state or "not reported", extra={"action": "ws.recovery"})
        sub_id = known if recovered else await self._subscribe(link)
        self._established = True
        self.board.update(
            connected=True,
            subscription_id=sub_id,
            subscription_active=True,
            reason="",
            connects=self.board.status.connects + 1,
            recovery=state if state in ("Successful", "Failed") else None,
        )

    async def _subscribe(self, link: _Link) -> str:
        body = {"eventFilters": self._filters, "deliveryMode": {"transportType": "WebSocket"}}
        meta, answer = await link.request("POST", "/restapi/v1.0/subscription", body)
        status = meta.get("status")
        if meta.get("type") != "ClientRequest" or not isinstance(status, int) or not 200 <= status < 300:
            raise TransportError(f"subscription refused: {status} {_error_text(meta, answer)}")
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise TransportError("subscription answer without an id")
        log.info("subscribed %s for %d filter(s)", answer["id"], len(self._filters))
        self.board.update(
            subscriptions_created=self.board.status.subscriptions_created + 1,
            subscription_expires_at=maybe_time(answer.get("expirationTime")),
        )
        return str(answer["id"])

    async def _read(self, link: _Link) -> None:
        try:
            async for raw in link.ws:
                try:
                    meta, body = parse_frame(raw)
                except ValueError as exc:  # one line, and the connection carries on
                    log.warning("ignored a frame that is not WSG JSON: %s", exc, extra={"action": "ws.junk"})
                    continue
                if meta.get("type") == "ServerNotification":
                    await self._notification(body, meta)
                    continue
                await self._handle(link, meta, body)
                self._track_wsc(meta)
        except ConnectionClosed as exc:
            raise TransportError(
                f"WebSocket closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
            ) from exc

    async def _handle(self, link: _Link, meta: dict[str, Any], body: Any) -> None:
        kind = meta.get("type")
        if kind == "ClientRequest":
            link.resolve(meta, body)
        elif kind == "Error" and not link.resolve(meta, body):
            code = body.get("errorCode") if isinstance(body, dict) else None
            log.warning("gateway error: %s", _error_text(meta, body), extra={"action": "ws.error"})
            if code in RECONNECT_CODES:
                await link.ws.close()

    async def _notification(self, envelope: Any, meta: dict[str, Any]) -> None:
        if not isinstance(envelope, dict):
            self._track_wsc(meta)
            return
        try:
            message = instant_message(envelope, "websocket")
        except ValueError as exc:
            log.warning("ignored an unreadable notification: %s", exc, extra={"action": "ws.junk"})
            self._track_wsc(meta)
            return
        if message is None:
            self._track_wsc(meta)
            return

        def stored() -> None:
            self._track_wsc(meta)
            self.board.update(last_event_at=self._clock.now())

        await self._storing.put(message, stored)

    async def _deliver(self, message: InboundMessage) -> None:
        """Hand one message to the sink; the frame counts as handled only once this returns."""
        failures = 0
        while True:
            try:
                await self._sink.accept(message)
                return
            except Exception as exc:  # the sink is the durable store: keep the frame until it takes it
                if not failures:  # the frames queued behind it die with a dropped connection: catch up
                    self.board.update(unstored=self.board.status.unstored + 1)
                failures += 1
                delay = self.policy.delay(failures)
                log.error("accept failed (%s); retrying in %.1f s", _describe(exc), delay)
                if await wait_any(self._stop, at_most=delay):
                    raise TransportError("stopped before the message was accepted") from exc

    def _lost(self) -> None:
        """Received messages were dropped unstored (the connection's tasks failed): catch up."""
        self.board.update(unstored=self.board.status.unstored + 1)

    def _track_wsc(self, meta: Mapping[str, Any]) -> None:
        wsc = Wsc.from_meta(meta)
        if wsc is None:
            return
        if meta.get("type") == "ConnectionDetails" or self._wsc is None or wsc.sequence > self._wsc.sequence:
            self._wsc = wsc

    async def _heartbeat(self, link: _Link, details: Mapping[str, Any]) -> None:
        idle = details.get("idleTimeout")
        interval = heartbeat_interval(float(idle) if isinstance(idle, int | float) else 1800.0)
        while not await wait_any(link.closed, at_most=interval):
            await link.send([{"type": "Heartbeat", "messageId": str(uuid.uuid4())}])

    async def _close_on_stop(self, link: _Link, stop: asyncio.Event) -> None:
        await wait_any(stop, link.closed)
        if stop.is_set():
            await link.ws.close()


def _error_text(meta: Mapping[str, Any], body: Any) -> str:
    if isinstance(body, dict):
        return f"{body.get('errorCode', meta.get('status'))} {body.get('message', '')}".strip()
    return str(meta.get("status"))


def retry_after(exc: BaseException) -> float:
    """The platform's ``Retry-After`` when ``exc`` is (or wraps) a 429, else 0."""
    if isinstance(exc, BaseExceptionGroup):
        return max((retry_after(inner) for inner in exc.exceptions), default=0.0)
    return exc.retry_after if isinstance(exc, RateLimited) else 0.0


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
