"""The emulator's whole state, in memory: one account, its app, extensions, sessions,
messages and subscriptions, the message store's indexes (:class:`~rcinbox.emulator.mailbox.Mailbox`),
plus the clock and the id generators.

Behaviour lives in the modules around it; this module only holds data and the few lookups they
share. The services (rate limiter, faults, the WebHook and WebSocket transports) are built around
the world by :func:`rcinbox.emulator.api.assemble` and handed to whoever needs them; the world
knows them only through two seams typed here: ``deliverers`` (where a subscription's notifications
go, by transport) and ``connections`` (the live gateway connections, which the faults control API
can drop). The clock is given at construction (``serve(clock=...)``; tests pass a fake one).
"""

from __future__ import annotations

import itertools
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from rcinbox.emulator.mailbox import Mailbox
from rcinbox.emulator.model import App, Extension, Message, Session, Subscription, WsToken
from rcinbox.emulator.wire import not_found

Clock = Callable[[], float]  # seconds since the epoch, like time.time


class LiveConnection(Protocol):
    """A live WebSocket gateway connection, as the faults control API sees it."""

    async def drop(self) -> None: ...


Deliver = Callable[[Subscription, dict[str, Any]], None]  # schedules one notification delivery


@dataclass
class Limits:
    """Platform numbers the emulator enforces; defaults are RingCentral's documented ones."""

    access_ttl: int = 3600
    refresh_ttl: int = 604800
    max_sessions: int = 5
    max_subscriptions: int = 30
    webhook_default_ttl: int = 604800
    webhook_max_ttl: int = 315360000
    ws_subscription_ttl: int = 86400
    wstoken_ttl: int = 600
    recovery_timeout: int = 180
    recovery_buffer: int = 100
    idle_timeout: int = 1800
    absolute_timeout: int = 86400
    validation_timeout: float = 3.0
    validation_max_bytes: int = 1024
    blacklist_after: float = 600.0  # seconds of sustained webhook delivery failure
    sms_max_chars: int = 1000
    mms_max_attachments: int = 10
    mms_max_bytes: int = 1_500_000
    latency_ms: int = 0
    ws_subscription_id_header: bool = False  # 2021 compatibility: WSG-SubscriptionId in ClientRequest answers


TOKEN_PREFIX = "U1BCMDFUMDRKV1MwMX"  # how the platform's tokens begin (base64 of "SPB01T04JWS01|")


def iso(ts: float) -> str:
    """RingCentral's timestamp format: ISO-8601 UTC with milliseconds and ``Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


@dataclass
class World:
    server_url: str
    app: App
    account_id: int
    extensions: list[Extension]
    limits: Limits = field(default_factory=Limits)
    clock: Clock = time.time
    company_numbers: list[str] = field(default_factory=list)
    sessions: dict[str, Session] = field(default_factory=dict)  # by session id
    messages: dict[int, Message] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    ws_tokens: dict[str, WsToken] = field(default_factory=dict)
    connections: set[LiveConnection] = field(default_factory=set)  # live gateway connections
    deliverers: dict[str, Deliver] = field(default_factory=dict)  # by transportType, set by api.assemble
    webhook_delay: float = 0.0  # fault: extra seconds before each webhook delivery
    mailbox: Mailbox = field(init=False)  # the message store's indexes over ``messages``
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(3062991514017, 1000))

    def __post_init__(self) -> None:
        self.mailbox = Mailbox(self.messages, self.extensions, self.now)

    # ids and time
    def now(self) -> float:
        return self.clock()

    def next_id(self) -> int:
        return next(self._ids)

    @staticmethod
    def new_uuid() -> str:
        return str(uuid.uuid4())

    @staticmethod
    def new_token(prefix: str = TOKEN_PREFIX) -> str:
        return prefix + secrets.token_urlsafe(32)

    # lookups
    def extension(self, extension_id: int) -> Extension:
        for ext in self.extensions:
            if ext.id == extension_id:
                return ext
        raise not_found("extensionId")

    def extension_by_jwt(self, jwt: str) -> Extension | None:
        return next((ext for ext in self.extensions if secrets.compare_digest(ext.jwt, jwt)), None)

    def owner_of(self, phone_number: str) -> Extension | None:
        for ext in self.extensions:
            if any(pn.phone_number == phone_number for pn in ext.phone_numbers):
                return ext
        return None

    def session_by_access_token(self, token: str) -> Session | None:
        for session in self.sessions.values():
            if session.access_token == token:
                return session
        return None

    def url(self, path: str) -> str:
        return self.server_url.rstrip("/") + path

    def account_path(self, extension_id: int) -> str:
        return f"/restapi/v1.0/account/{self.account_id}/extension/{extension_id}"

    def expand(self, path: str, session: Session) -> str:
        """Resolve ``~`` account/extension ids against a session, as the platform does everywhere."""
        path = path.replace("/account/~", f"/account/{session.account_id}")
        return path.replace("/extension/~", f"/extension/{session.extension_id}")
