"""One live WebSocket connection of the gateway: frame parsing, ``ClientRequest`` → REST
dispatch, ``Heartbeat`` echo, idle/absolute timeouts, and an ordered send queue.

The connection reads frames in one task and writes them in another (one writer keeps every
frame, notifications included, in order). ``ClientRequest`` frames become
:class:`~rcinbox.emulator.wire.ApiRequest` with ``transport="ws"``, the OAuth session's current
access token as the bearer, and the gateway session id in ``x-rcinbox-ws-session`` (the
subscriptions module trusts it only on that transport). Notifications queued but not yet written
when the socket dies go back to the session's recovery buffer, in order.

The gateway hands each connection what it needs and nothing more: the platform's
:class:`~rcinbox.emulator.world.Limits`, a :data:`~rcinbox.emulator.wire.Dispatch` for its
requests, the bearer of its OAuth session and a callback for activity (a heartbeat or a
request keeps the session's subscription alive).

Idle timeout (WSG-902) counts application frames only: frames from the client and notifications
to it; WebSocket ping/pong never reset it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import orjson
from starlette.websockets import WebSocketDisconnect

from rcinbox.emulator.push.subscriptions import BASE, WS_SESSION_HEADER
from rcinbox.emulator.wire import ApiRequest, ApiResponse, Dispatch
from rcinbox.emulator.world import Limits

log = logging.getLogger("rcinbox.emulator")

SEND_ERRORS = (WebSocketDisconnect, RuntimeError, OSError)
MAX_ACTIVE_REQUESTS = 10
NULL_BODY = (
    "Expected either '{' opening an object body or '\"' opening a string body but was another character"
)


def dumps(frame: list[Any]) -> str:
    return orjson.dumps(frame).decode()


def new_id() -> str:
    """A ``messageId`` of the gateway's own (RingCentral's are UUIDs)."""
    return str(uuid.uuid4())


def error_frame(code: str, message: str, message_id: str, status: int = 400) -> str:
    meta = {
        "type": "Error",
        "messageId": message_id,
        "status": status,
        "headers": {"RCRequestId": message_id},
    }
    return dumps([meta, {"errorCode": code, "message": message}])


class MalformedFrame(Exception):
    def __init__(self, message: str, message_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_id = message_id


class Socket(Protocol):
    """What a connection uses of its WebSocket (Starlette's, in the app)."""

    async def receive(self) -> MutableMapping[str, Any]: ...
    async def send_text(self, data: str) -> None: ...
    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


@dataclass(frozen=True)
class QueuedFrame:
    text: str
    notification: bool = False
    due: float = 0.0  # loop time before which a notification is not written (modelled latency)


def _query_items(raw: object) -> Iterable[tuple[str, str]]:
    if not isinstance(raw, dict):
        return []
    items: list[tuple[str, str]] = []
    for key, value in raw.items():
        for one in value if isinstance(value, list) else [value]:
            if one is not None:
                items.append((str(key), str(one).lower() if isinstance(one, bool) else str(one)))
    return items


def _message_id(text: str) -> str | None:
    """The frame's ``messageId`` if it has a readable one (to answer a frame that broke a handler)."""
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    meta = frame[0] if isinstance(frame, list) and frame and isinstance(frame[0], dict) else {}
    found = meta.get("messageId")
    return found if isinstance(found, str) else None


def parse_frame(text: str) -> tuple[dict[str, Any], list[Any]]:
    """``[meta]`` or ``[meta, body]``; anything else is WSG-808."""
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise MalformedFrame("Cannot parse request: malformed JSON") from None
    if not isinstance(frame, list) or not frame or not isinstance(frame[0], dict) or len(frame) > 2:
        raise MalformedFrame("Request must be a JSON array [meta] or [meta, body]")
    meta = frame[0]
    message_id = meta.get("messageId") if isinstance(meta.get("messageId"), str) else None
    if len(frame) == 2 and frame[1] is None:
        raise MalformedFrame(NULL_BODY, message_id)
    return meta, frame[1:]


@dataclass(eq=False)  # identity equality: connections live in world.connections (a set)
class Connection:
    websocket: Socket
    session_id: str  # the gateway session it serves (logs, ``x-rcinbox-ws-session``)
    limits: Limits
    dispatch: Dispatch  # a ClientRequest's REST call
    bearer: Callable[[], str | None]  # the OAuth session's current access token, if it still exists
    on_activity: Callable[[], None]  # a Heartbeat or a ClientRequest arrived
    client: str = "-"  # peer address, for the REST log line
    send_queue: asyncio.Queue[QueuedFrame | None] = field(default_factory=asyncio.Queue)
    close_code: int = 1000
    dropped: bool = False
    flush_on_exit: bool = False  # set when the server ends the session with an Error frame to deliver
    last_activity: float = 0.0
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(MAX_ACTIVE_REQUESTS)
        self.requests: set[asyncio.Task[None]] = set()
        self.inflight: QueuedFrame | None = None
        self.reader: asyncio.Task[None] | None = None

    # outgoing
    def send(self, text: str) -> None:
        self.send_queue.put_nowait(QueuedFrame(text))

    def notify(self, text: str, replay: bool = False) -> None:
        """Queue a notification; new ones wait out the modelled latency, replayed ones do not."""
        latency = 0.0 if replay else self.limits.latency_ms / 1000
        self.send_queue.put_nowait(QueuedFrame(text, True, asyncio.get_running_loop().time() + latency))

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while (item := await self.send_queue.get()) is not None:
            self.inflight = item
            if item.due > loop.time():
                await asyncio.sleep(item.due - loop.time())
            await self.websocket.send_text(item.text)
            self.inflight = None
            if item.notification:
                self.last_activity = loop.time()

    def unsent_notifications(self) -> list[str]:
        pending = [self.inflight] if self.inflight is not None else []
        while not self.send_queue.empty():
            item = self.send_queue.get_nowait()
            if item is not None:
                pending.append(item)
        return [item.text for item in pending if item.notification]

    # lifecycle
    async def run(self) -> None:
        """Serve until the client leaves, a timeout fires or the connection is dropped."""
        self.last_activity = asyncio.get_running_loop().time()
        self.reader = asyncio.create_task(self._read_loop())
        writer = asyncio.create_task(self._write_loop())
        try:
            await asyncio.wait({self.reader, writer}, return_when=asyncio.FIRST_COMPLETED)
            if self.reader.done() and self.flush_on_exit and not self.dropped and not writer.done():
                self.send_queue.put_nowait(None)  # deliver what is queued (the WSG-902/903 frame) first
                await asyncio.wait({writer}, timeout=self.limits.validation_timeout)
        finally:
            for task in (self.reader, writer, *self.requests):
                task.cancel()
            await asyncio.gather(self.reader, writer, *self.requests, return_exceptions=True)
            await self._close_socket()
            self.closed.set()

    async def drop(self) -> None:
        """Cut the connection as a network failure would (the session stays recoverable)."""
        log.info("WS session %s: connection dropped by the emulator", self.session_id)
        self.dropped = True
        self.close_code = 1001
        if self.reader is not None:
            self.reader.cancel()
        await self.closed.wait()

    async def _close_socket(self) -> None:
        with contextlib.suppress(*SEND_ERRORS):  # the peer may already be gone
            await self.websocket.close(self.close_code)

    # incoming
    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        limits = self.limits
        absolute = loop.time() + limits.absolute_timeout
        while True:
            idle_deadline = self.last_activity + limits.idle_timeout
            remaining = min(idle_deadline, absolute) - loop.time()
            if remaining <= 0:
                self._timed_out(idle=idle_deadline <= absolute)
                return
            try:
                message = await asyncio.wait_for(self.websocket.receive(), remaining)
            except TimeoutError:
                continue
            if message["type"] == "websocket.disconnect":
                return
            self.last_activity = loop.time()
            text = message.get("text")
            if text is None:
                text = (message.get("bytes") or b"").decode("utf-8", "replace")
            self._on_frame(text)

    def _timed_out(self, idle: bool) -> None:
        code, message = (
            ("WSG-902", "Idle timeout expired") if idle else ("WSG-903", "Absolute timeout expired")
        )
        log.info("WS session %s: %s", self.session_id, message)
        self.flush_on_exit = True
        self.send(error_frame(code, message, new_id()))

    def _on_frame(self, text: str) -> None:
        """Every frame with a ``messageId`` gets an answer, even when handling it fails."""
        try:
            self._handle_frame(text)
        except MalformedFrame as exc:
            log.info("WS session %s: WSG-808 %s", self.session_id, exc.message)
            self.send(error_frame("WSG-808", exc.message, exc.message_id or new_id()))
        except Exception:  # a bug: log it, and still answer the client's messageId
            log.exception("WS session %s: error handling a frame", self.session_id)
            message_id = _message_id(text) or new_id()
            self.send(error_frame("CMN-201", "Service Temporary Unavailable", message_id, 500))

    def _handle_frame(self, text: str) -> None:
        meta, rest = parse_frame(text)
        kind = meta.get("type")
        message_id = meta.get("messageId") if isinstance(meta.get("messageId"), str) else None
        if kind == "Heartbeat":
            self.on_activity()
            log.info("WS session %s: Heartbeat", self.session_id)
            self.send(dumps([{"type": "Heartbeat", "messageId": message_id or new_id()}]))
            return
        if kind != "ClientRequest" or not message_id:
            raise MalformedFrame("Unsupported message type or missing messageId", message_id)
        request = self._api_request(meta, rest[0] if rest else None)
        self.on_activity()
        task = asyncio.create_task(self._answer(message_id, request))
        self.requests.add(task)
        task.add_done_callback(self.requests.discard)

    def _api_request(self, meta: dict[str, Any], body: object) -> ApiRequest:
        method, path = meta.get("method"), meta.get("path")
        if not isinstance(method, str) or not isinstance(path, str) or not path:
            raise MalformedFrame("ClientRequest needs string 'method' and 'path'", meta.get("messageId"))
        try:
            parts = urlsplit(path)
            query = [*parse_qsl(parts.query, keep_blank_values=True), *_query_items(meta.get("query"))]
        except ValueError:
            raise MalformedFrame(f"Cannot parse request path: {path[:200]}", meta.get("messageId")) from None
        raw_headers = meta.get("headers")
        headers = {
            str(k).lower(): str(v)
            for k, v in (raw_headers.items() if isinstance(raw_headers, dict) else [])
            if isinstance(v, str | int | float)
        }
        headers.pop("authorization", None)
        bearer = self.bearer()
        if bearer is not None:
            headers["authorization"] = f"Bearer {bearer}"
        headers[WS_SESSION_HEADER] = self.session_id
        content = b""
        if isinstance(body, dict | list):
            content = orjson.dumps(body)
            headers.setdefault("content-type", "application/json")
        elif isinstance(body, str):
            content = body.encode()
        elif body is not None:
            raise MalformedFrame(NULL_BODY, meta.get("messageId"))
        return ApiRequest(method.upper(), parts.path, tuple(query), headers, content, "ws", self.client)

    async def _answer(self, message_id: str, request: ApiRequest) -> None:
        try:
            async with self.slots:
                response = await self.dispatch(request)
            frame = dumps(self._response_frame(message_id, request, response))
        except Exception:  # a bug: the client still gets an answer for its messageId
            log.exception("WS session %s: error answering %s", self.session_id, message_id)
            frame = error_frame("CMN-201", "Service Temporary Unavailable", message_id, 500)
        self.send(frame)

    def _response_frame(self, message_id: str, request: ApiRequest, response: ApiResponse) -> list[Any]:
        headers = dict(response.headers)
        if response.content_type:
            headers["Content-Type"] = response.content_type
        body: Any = None
        if response.body:
            is_json = "json" in (response.content_type or "")
            body = response.json() if is_json else response.body.decode("utf-8", "replace")
        if (
            self.limits.ws_subscription_id_header
            and request.path.rstrip("/").startswith(BASE)
            and 200 <= response.status < 300
            and isinstance(body, dict)
            and isinstance(body.get("id"), str)
        ):
            headers["WSG-SubscriptionId"] = body["id"]
        meta = {
            "type": "ClientRequest",
            "messageId": message_id,
            "status": response.status,
            "headers": headers,
        }
        return [meta] if body is None else [meta, body]
