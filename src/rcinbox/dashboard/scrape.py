"""``GET /metrics``: the service's Prometheus metrics, closed like the dashboard.

The dashboard holds the keys, so the route is here; what it serves comes from the service (a
``render`` callable: :meth:`rcinbox.service.metrics.Metrics.render`), which the dashboard never
imports. Who may read it (unless ``RCINBOX_METRICS_PUBLIC=true``):

- a browser signed in to the dashboard (its session cookie);
- a scraper presenting the admin password, as HTTP Basic (any user name: Prometheus's
  ``basic_auth``) or as a bearer token (``authorization`` / ``bearer_token_file``).

Anything else is answered 401 with ``WWW-Authenticate: Basic``. A wrong password counts against
the sign-in limit of the address (:class:`~rcinbox.dashboard.auth.SignInLimiter`: 5 in 15 minutes,
then 429), so ``/metrics`` is no way around it. The password is checked with its scrypt hash
once; a scraper presenting the same one again is recognised by an HMAC of it under a random
key of this process (constant-time), so a scrape every few seconds costs no scrypt.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from rcinbox.dashboard.auth import COOKIE, Sessions, SignInLimiter
from rcinbox.passwords import PasswordHash

Render = Callable[[], Awaitable[bytes]]
CHALLENGE = {
    "WWW-Authenticate": 'Basic realm="rcinbox metrics", charset="UTF-8"',
    "Cache-Control": "no-store",
}


class MetricsPage:
    """The ``/metrics`` route: ``render()``'s text to whoever may read it."""

    def __init__(
        self,
        render: Render,
        content_type: str,
        sessions: Sessions,
        password: PasswordHash,
        limiter: SignInLimiter,
        *,
        public: bool = False,
    ) -> None:
        self.render = render
        self.content_type = content_type
        self.sessions = sessions
        self.password = password
        self.limiter = limiter
        self.public = public
        self._key = secrets.token_bytes(32)  # this process's: the accepted password's tag
        self._accepted: bytes | None = None  # the tag of the last password that verified

    def routes(self) -> list[BaseRoute]:
        return [Route("/metrics", self.metrics, methods=["GET"])]

    async def metrics(self, request: Request) -> Response:
        if not self.public:
            refused = await self._refused(request)
            if refused is not None:
                return refused
        headers = {"Cache-Control": "no-store"}
        return Response(await self.render(), media_type=self.content_type, headers=headers)

    async def _refused(self, request: Request) -> Response | None:
        """``None`` when the request may read the metrics, else the answer that says why not."""
        session = self.sessions.read(request.cookies.get(COOKIE))
        if session is not None and session.signed_in:
            return None
        presented = _password(request.headers.get("authorization"))
        if presented is None:
            return Response("sign in first\n", status_code=401, media_type="text/plain", headers=CHALLENGE)
        tag = hmac.new(self._key, presented.encode(), hashlib.sha256).digest()
        if self._accepted is not None and hmac.compare_digest(tag, self._accepted):
            return None
        address = request.client.host if request.client else "unknown"
        wait = self.limiter.retry_after(address)
        if wait is not None:
            headers = {"Retry-After": str(max(int(wait + 0.999), 1)), "Cache-Control": "no-store"}
            return Response("too many wrong passwords\n", status_code=429, headers=headers)
        if not await asyncio.to_thread(self.password.verify, presented):
            self.limiter.failed(address)
            return Response("wrong password\n", status_code=401, media_type="text/plain", headers=CHALLENGE)
        self.limiter.succeeded(address)
        self._accepted = tag
        return None


def _password(header: str | None) -> str | None:
    """The password of an ``Authorization: Basic`` (its user name ignored) or ``Bearer`` header."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, found, password = decoded.partition(":")
    return password if found and password else None
