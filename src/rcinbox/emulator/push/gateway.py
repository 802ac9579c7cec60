"""The WebSocket gateway (WSG, PLATFORM §3): ``/ws?access_token=<ws token>[&wsc=<token>]``.

It owns gateway *sessions*, which outlive their connections: a session holds the WebSocket
subscription (at most one, in ``world.subscriptions`` with ``ws_session_id``), a ``wsc`` token
and a recovery buffer of the last ``limits.recovery_buffer`` notifications that could not be
written. A dropped connection leaves its session recoverable for ``limits.recovery_timeout``
seconds (world clock): reconnecting with a ws token plus ``&wsc=`` re-attaches it
(``recoveryState: "Successful"``) and replays the buffer in order; too late, or a session with
no subscription, is ``Failed``/WSG-1005; a wsc of another OAuth session is ``Failed``/WSG-1003;
a wsc this gateway never issued is an ``Error`` frame WSG-400 and the socket closes.

Frames carrying ``wsc {token, sequence}``: ``ConnectionDetails`` and ``ServerNotification``; the
sequence grows by one per such frame over the session's life (recoveries included), the token
stays the same. A ws token opens new connections until it expires, so a client may reconnect
with the one it already has (``@rc-ex/ws`` does, until 0.8 × ``expires_in``); a missing, unknown
or expired one, or one of a revoked OAuth session, closes the socket with code 4400.
``limits.ws_subscription_id_header`` turns on the 2021 ``WSG-SubscriptionId`` answer header.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import secrets
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from rcinbox.emulator.model import Subscription, WsToken
from rcinbox.emulator.push.connection import SEND_ERRORS, Connection, dumps, error_frame
from rcinbox.emulator.wire import Dispatch, decode_token, encode_token
from rcinbox.emulator.world import World

log = logging.getLogger("rcinbox.emulator")

MAX_CONNECTIONS_PER_SESSION = 50


def wsg_time(ts: float) -> str:
    """The gateway's own timestamp style: ``2020-09-07T21:50:02.737+0000``."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


class MalformedWsc(Exception):
    """A ``wsc`` this gateway never issued."""


@dataclass(eq=False)
class WsSession:
    id: str
    oauth_session_id: str
    token: str
    buffer: deque[str]
    sequence: int = 0
    connection: Connection | None = None
    disconnected_at: float | None = None

    def next_wsc(self) -> dict[str, Any]:
        self.sequence += 1
        return {"token": self.token, "sequence": self.sequence}


@dataclass
class Gateway:
    """The ``/ws`` endpoint; :meth:`deliver` is ``world.deliverers["WebSocket"]``."""

    world: World
    dispatch: Dispatch  # a ClientRequest's REST call (the dispatcher's, in the app)
    sessions: dict[str, WsSession] = field(default_factory=dict)
    timers: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def route(self) -> BaseRoute:
        return WebSocketRoute("/ws", self.endpoint)

    # wsc tokens: the session id, authenticated, so forged tokens are told apart from stale ones
    def _token_for(self, session_id: str) -> str:
        raw = uuid.UUID(session_id).bytes
        mac = hmac.new(self._key, raw, hashlib.sha256).digest()[:16]
        return encode_token(raw + mac)

    def _session_id(self, token: str) -> str:
        try:
            raw = decode_token(token)
        except ValueError:
            raise MalformedWsc from None
        mac = hmac.new(self._key, raw[:16], hashlib.sha256).digest()[:16]
        if len(raw) != 32 or not hmac.compare_digest(mac, raw[16:]):
            raise MalformedWsc
        return str(uuid.UUID(bytes=raw[:16]))

    # sessions
    def _new_session(self, oauth_session_id: str) -> WsSession:
        session_id = str(uuid.uuid4())
        buffer: deque[str] = deque(maxlen=self.world.limits.recovery_buffer)
        session = WsSession(session_id, oauth_session_id, self._token_for(session_id), buffer)
        self.sessions[session_id] = session
        return session

    def subscription_of(self, session: WsSession) -> Subscription | None:
        return next((s for s in self.world.subscriptions.values() if s.ws_session_id == session.id), None)

    def touch(self, session: WsSession) -> None:
        """WebSocket subscriptions renew themselves while their session is in use."""
        sub = self.subscription_of(session)
        if sub is not None:
            sub.expires_at = self.world.now() + self.world.limits.ws_subscription_ttl

    def _expired(self, session: WsSession) -> bool:
        if session.connection is not None or session.disconnected_at is None:
            return False
        return self.world.now() - session.disconnected_at > self.world.limits.recovery_timeout

    def forget(self, session: WsSession) -> None:
        self.sessions.pop(session.id, None)
        for sub in [s for s in self.world.subscriptions.values() if s.ws_session_id == session.id]:
            del self.world.subscriptions[sub.id]
        log.info("WS session %s forgotten", session.id)

    # notifications
    def deliver(self, sub: Subscription, envelope: dict[str, Any]) -> None:
        session = self.sessions.get(sub.ws_session_id or "")
        if session is None:
            return
        meta = {
            "type": "ServerNotification",
            "messageId": envelope["uuid"],
            "status": 200,
            "headers": {"RCRequestId": self.world.new_uuid()},
            "wsc": session.next_wsc(),
        }
        frame = dumps([meta, envelope])
        if session.connection is not None:
            session.connection.notify(frame)
        elif self._expired(session):
            self.forget(session)
        else:
            session.buffer.append(frame)  # oldest dropped past recovery_buffer

    # connections
    async def endpoint(self, websocket: WebSocket) -> None:
        await websocket.accept()
        ws_token = self._admit(websocket.query_params.get("access_token"))
        if ws_token is None:
            log.info("WS connection refused: missing, unknown, expired or revoked access_token")
            await websocket.close(4400)
            return
        try:
            session, recovery = self._resume(ws_token, websocket.query_params.get("wsc"))
        except MalformedWsc:
            log.info("WS connection refused: WSG-400 malformed wsc")
            message = "Malformed WebSocket session context token"
            try:
                await websocket.send_text(error_frame("WSG-400", message, self.world.new_uuid()))
                await websocket.close(1008)
            except SEND_ERRORS:
                pass  # the peer is already gone
            return
        await self._serve(websocket, session, recovery)

    def _admit(self, token: str | None) -> WsToken | None:
        """The ws token opens any number of connections until it expires (RingCentral's own JS
        clients present it again on every reconnect), not once its session is revoked."""
        ws_token = self.world.ws_tokens.get(token) if token else None
        if ws_token is None or ws_token.expires_at <= self.world.now():
            return None
        oauth = self.world.sessions.get(ws_token.session_id)
        return None if oauth is None or oauth.revoked else ws_token

    def _resume(self, ws_token: WsToken, wsc: str | None) -> tuple[WsSession, dict[str, str]]:
        if wsc is None:
            return self._new_session(ws_token.session_id), {}
        old = self.sessions.get(self._session_id(wsc))
        if old is not None and old.oauth_session_id != ws_token.session_id:
            failed = {"recoveryState": "Failed", "recoveryErrorCode": "WSG-1003"}
            return self._new_session(ws_token.session_id), failed
        if old is None or self._expired(old) or self.subscription_of(old) is None:
            if old is not None:
                self.forget(old)
            failed = {"recoveryState": "Failed", "recoveryErrorCode": "WSG-1005"}
            return self._new_session(ws_token.session_id), failed
        return old, {"recoveryState": "Successful"}

    def _details(self, session: WsSession, recovery: dict[str, str]) -> str:
        limits = self.world.limits
        message_id = self.world.new_uuid()
        meta = {
            "type": "ConnectionDetails",
            "messageId": message_id,
            "status": 200,
            "wsc": session.next_wsc(),
            "headers": {"RCRequestId": message_id},
        }
        body = {
            "creationTime": wsg_time(self.world.now()),
            "maxConnectionsPerSession": MAX_CONNECTIONS_PER_SESSION,
            "recoveryBufferSize": limits.recovery_buffer,
            "recoveryTimeout": limits.recovery_timeout,
            "idleTimeout": limits.idle_timeout,
            "absoluteTimeout": limits.absolute_timeout,
            "maxActiveRequests": 10,
            **recovery,
        }
        return dumps([meta, body])

    async def _serve(self, websocket: WebSocket, session: WsSession, recovery: dict[str, str]) -> None:
        oauth_session_id = session.oauth_session_id

        def bearer() -> str | None:
            oauth = self.world.sessions.get(oauth_session_id)
            return oauth.access_token if oauth is not None else None

        connection = Connection(
            websocket,
            session_id=session.id,
            limits=self.world.limits,
            dispatch=self.dispatch,
            bearer=bearer,
            on_activity=functools.partial(self.touch, session),
            client=websocket.client.host if websocket.client else "-",
        )
        previous, session.connection, session.disconnected_at = session.connection, connection, None
        if previous is not None:
            await previous.drop()  # a recovery takes the session over from a half-dead socket
        self.world.connections.add(connection)
        outcome = " ".join(recovery.values()) or "none"
        log.info("WS session %s connected (recovery: %s)", session.id, outcome)
        connection.send(self._details(session, recovery))
        if recovery.get("recoveryState") == "Successful":
            for frame in session.buffer:
                connection.notify(frame, replay=True)
            session.buffer.clear()
        self.touch(session)
        try:
            await connection.run()
        finally:
            self.world.connections.discard(connection)
            self._detach(session, connection)

    def _detach(self, session: WsSession, connection: Connection) -> None:
        unsent = connection.unsent_notifications()
        if session.connection is not connection:
            return
        session.connection = None
        session.disconnected_at = self.world.now()
        session.buffer.extend(unsent)
        log.info("WS session %s disconnected (%d notification(s) buffered)", session.id, len(session.buffer))
        if self.subscription_of(session) is None:
            self.forget(session)  # nothing to recover (WSG-1005 later)
            return
        timer = asyncio.get_running_loop().create_task(self._expire_later(session, session.disconnected_at))
        self.timers.add(timer)
        timer.add_done_callback(self.timers.discard)

    async def _expire_later(self, session: WsSession, disconnected_at: float) -> None:
        await asyncio.sleep(self.world.limits.recovery_timeout)
        if session.connection is None and session.disconnected_at == disconnected_at:
            self.forget(session)

    async def aclose(self) -> None:
        for connection in [c for c in self.world.connections if isinstance(c, Connection)]:
            await connection.drop()
        for timer in list(self.timers):
            timer.cancel()
        await asyncio.gather(*list(self.timers), return_exceptions=True)
