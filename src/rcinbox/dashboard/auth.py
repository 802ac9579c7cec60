"""Signing in to the dashboard: signed session cookies, CSRF tokens and the sign-in rate limit.

A visitor's session is a cookie ``rcinbox_session``: ``<payload>.<mac>``, the payload (base64 JSON:
a random session id, whether it is signed in, its expiry, the password's fingerprint) signed with
HMAC-SHA256 under a key kept in the archive's ``kv`` table, so a session outlives a restart. A
cookie with a wrong MAC, past its expiry, signed under another password or signed out is no
session. Every visitor gets one (signed out: the sign-in form needs a CSRF token too); signing in
issues a new id (no session fixation). The CSRF token of a form is HMAC(key, session id), compared
in constant time. :class:`SignInLimiter`: 5 failed sign-ins in 15 minutes from one address, then
429 until the oldest of them is 15 minutes old.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from rcinbox.clock import SYSTEM, Clock
from rcinbox.passwords import PasswordHash

COOKIE = "rcinbox_session"
SIGNED_IN_TTL = 12 * 3600.0  # seconds a sign-in lasts
VISITOR_TTL = 2 * 3600.0  # a signed-out visitor's session (the sign-in form's CSRF token)


@dataclass(frozen=True)
class Session:
    sid: str
    signed_in: bool
    expires: float  # epoch seconds (Clock.time)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    """Issues and reads session cookies; ``revoked`` holds signed-out ids until they expire."""

    def __init__(
        self,
        key: bytes,
        password: PasswordHash,
        clock: Clock = SYSTEM,
        revoked: dict[str, float] | None = None,
    ) -> None:
        self._key = key
        self._tag = password.fingerprint()
        self.clock = clock
        self.revoked = dict(revoked or {})

    def __repr__(self) -> str:
        return f"Sessions({len(self.revoked)} signed out)"

    def new(self, *, signed_in: bool) -> Session:
        ttl = SIGNED_IN_TTL if signed_in else VISITOR_TTL
        return Session(secrets.token_urlsafe(18), signed_in, self.clock.time() + ttl)

    def encode(self, session: Session) -> str:
        payload = {"sid": session.sid, "in": session.signed_in, "exp": session.expires, "pw": self._tag}
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}"

    def read(self, cookie: str | None) -> Session | None:
        """The session in ``cookie``, or ``None`` (absent, forged, expired, signed out, old password)."""
        if not cookie or cookie.count(".") != 1:
            return None
        body, mac = cookie.split(".")
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            payload: dict[str, Any] = json.loads(_unb64(body))
            session = Session(str(payload["sid"]), payload["in"] is True, float(payload["exp"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires <= self.clock.time() or session.sid in self.revoked:
            return None
        if session.signed_in and payload.get("pw") != self._tag:
            return None
        return session

    def csrf(self, session: Session) -> str:
        return self._mac("csrf:" + session.sid)

    def csrf_ok(self, session: Session | None, token: object) -> bool:
        if session is None or not isinstance(token, str):
            return False
        return hmac.compare_digest(token.encode(), self.csrf(session).encode())

    def _mac(self, text: str) -> str:
        return _b64(hmac.new(self._key, text.encode(), hashlib.sha256).digest())


class SignInLimiter:
    """At most ``attempts`` failed sign-ins per ``window`` seconds per client address."""

    def __init__(self, clock: Clock = SYSTEM, attempts: int = 5, window: float = 15 * 60.0) -> None:
        self.clock = clock
        self.attempts = attempts
        self.window = window
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self.max_addresses = 10_000  # memory stays bounded under a spray of addresses

    def __repr__(self) -> str:
        return f"SignInLimiter({len(self._failures)} addresses)"

    def retry_after(self, address: str) -> float | None:
        """Seconds until ``address`` may try again, or ``None`` when it may now."""
        failures = self._recent(address)
        if len(failures) < self.attempts:
            return None
        return max(failures[0] + self.window - self.clock.monotonic(), 0.0)

    def failed(self, address: str) -> None:
        self._recent(address).append(self.clock.monotonic())
        self._failures.move_to_end(address)
        while len(self._failures) > self.max_addresses:
            self._failures.popitem(last=False)

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)

    def _recent(self, address: str) -> deque[float]:
        failures = self._failures.setdefault(address, deque())
        cutoff = self.clock.monotonic() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures


def new_key() -> bytes:
    return secrets.token_bytes(32)
