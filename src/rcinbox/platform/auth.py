"""OAuth session of the service: JWT login, refresh, persistence, and its background upkeep.

:class:`TokenManager` hands out a valid access token to any number of concurrent tasks:

* one renewal at a time (an ``asyncio.Lock``; callers arriving meanwhile wait for it and reuse
  its result), proactively ``margin`` seconds before the access token expires;
* refresh with the refresh token, falling back to a fresh JWT login on ``invalid_grant``
  (refresh token expired, revoked, or the session evicted by the 6th-session rule);
* after a 401 on an API call, :meth:`TokenManager.recover` renews once for everyone;
* every new token pair is kept in the session's vault (:mod:`rcinbox.platform.vault`: the token
  file, mode 0600, atomic; or, for replicas, a row of the shared database, renewed by one
  replica at a time, the others taking the pair it saved) so a restart continues the session
  instead of opening a new one;
* a background task refreshes the session ``margin`` seconds before the access token expires
  (or earlier, when the refresh token has used half of its life), so on a quiet line that makes
  no API call the access token stays valid (``/readyz``) and the 7-day refresh token never lapses.

No token or credential is ever logged; ``repr`` of everything here masks them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from rcinbox.clock import SYSTEM, Clock
from rcinbox.errors import AuthError, InvalidGrant, error_from_response
from rcinbox.observe import NOBODY, Observer, Renewal
from rcinbox.platform.pacing import Pacer
from rcinbox.platform.retry import DEFAULT_POLICY, RetryPolicy, send
from rcinbox.platform.tokenfile import Token
from rcinbox.platform.vault import FileVault, NoVault, SessionVault
from rcinbox.wire import TokenAnswer

log = logging.getLogger("rcinbox.platform")

TOKEN_PATH = "/restapi/oauth/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DAY = 86400.0


@dataclass(frozen=True, repr=False)
class Credentials:
    """What a JWT login needs. ``repr`` shows only the server and client id."""

    server_url: str
    client_id: str
    client_secret: str
    jwt: str

    def __repr__(self) -> str:
        return (
            f"Credentials(server_url={self.server_url!r}, client_id={self.client_id!r}, secret=***, jwt=***)"
        )

    @property
    def fingerprint(self) -> str:
        """Identifies server, app and user without revealing the JWT (stored with the tokens)."""
        material = "\0".join((self.server_url, self.client_id, self.jwt)).encode()
        return hashlib.sha256(material).hexdigest()[:32]


def access_margin(ttl: float) -> float:
    """Renew this many seconds before the access token expires: 60 s, or 10% of a short TTL."""
    return min(60.0, ttl * 0.1)


class TokenManager:
    def __init__(
        self,
        http: httpx.AsyncClient,
        credentials: Credentials,
        *,
        token_file: Path | None = None,
        vault: SessionVault | None = None,
        pacer: Pacer | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        clock: Clock = SYSTEM,
        on_renew: Callable[[Token], None] | None = None,
        observer: Observer = NOBODY,  # the metrics: each refresh and login, and how it went
    ) -> None:
        self._http = http
        self._observer = observer
        self._credentials = credentials
        # where the session is kept: the vault given, else the token file, else nowhere
        self._vault: SessionVault = vault or (
            FileVault(token_file, credentials.fingerprint) if token_file else NoVault()
        )
        self._pacer = pacer or Pacer(clock)
        self._policy = policy
        self._clock = clock
        self._on_renew = on_renew  # called after every login/refresh (readiness, tests)
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        pair = f"{credentials.client_id}:{credentials.client_secret}".encode()
        self._basic = "Basic " + base64.b64encode(pair).decode()
        self.logins = 0  # JWT logins performed (sessions opened) by this manager
        self.refreshes = 0

    def __repr__(self) -> str:
        state = "no session" if self._token is None else f"session of ext {self._token.owner_id}"
        return f"TokenManager({self._credentials!r}, {state})"

    @property
    def token(self) -> Token | None:
        return self._token

    @property
    def owner_id(self) -> str | None:
        return self._token.owner_id if self._token else None

    def valid(self) -> bool:
        """True while the current access token is not expired (for readiness checks)."""
        return self._token is not None and self._token.expires_at > self._clock.time()

    # ---- lifecycle ----

    async def start(self, background: bool = True) -> None:
        """Load a persisted session (if it is ours), get a valid token, start the upkeep task."""
        if self._token is None:
            self._token = await self._vault.load()
            if self._token is not None:
                log.info("reusing the saved OAuth session of ext %s", self._token.owner_id)
        async with self._lock:  # retried quietly: the caller reports the outcome (or one error line)
            if self._token is None or self._due(self._token):
                await self._renew(self._token, dataclasses.replace(self._policy, quiet=True))
        if background and self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._upkeep(), name="rcinbox:token-upkeep")

    async def aclose(self) -> None:
        """Stop the upkeep task (the session stays valid and saved for the next start)."""
        self._stop.set()
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ---- tokens ----

    async def access_token(self) -> str:
        """A valid access token, renewing first when it is missing or about to expire."""
        token = self._token
        if token is not None and not self._due(token):
            return token.access_token
        async with self._lock:
            token = self._token
            if token is None or self._due(token):  # still due after waiting for the lock?
                token = await self._renew(token)
            return token.access_token

    async def recover(self, rejected: str) -> str:
        """The platform answered 401 to ``rejected``: renew once (unless someone already did)."""
        async with self._lock:
            token = self._token
            if token is None or token.access_token == rejected:
                log.warning("access token rejected by the platform; renewing the session")
                token = await self._renew(token)
            return token.access_token

    async def refresh_now(self) -> None:
        """Renew the session now (upkeep, tests)."""
        async with self._lock:
            await self._renew(self._token)

    def _due(self, token: Token) -> bool:
        return self._clock.time() >= token.expires_at - access_margin(token.expires_in)

    async def _renew(self, token: Token | None, policy: RetryPolicy | None = None) -> Token:
        """Refresh if the refresh token is still good, else (or on invalid_grant) log in; inside
        the vault's renewal, so where another replica renewed meanwhile, take its pair instead."""
        async with self._vault.renewing() as held:
            newer = held.current
            if newer is not None and (token is None or newer.access_token != token.access_token):
                if not self._due(newer):
                    log.info("took the OAuth session another replica renewed (ext %s)", newer.owner_id)
                    return self._kept(newer)
                token = newer  # its refresh token is the one still valid (each refresh rotates it)
            new = await self._renewed(token, policy or self._policy)
            await held.save(new)
        return self._kept(new)

    async def _renewed(self, token: Token | None, policy: RetryPolicy) -> Token:
        new: Token | None = None
        if token is not None and token.refresh_token and token.refresh_expires_at > self._clock.time():
            try:
                form = {"grant_type": "refresh_token", "refresh_token": token.refresh_token}
                new = await self._counted("refresh", self._grant(form, policy))
                self.refreshes += 1
                log.info("OAuth session refreshed (ext %s)", new.owner_id)
            except InvalidGrant as exc:
                log.warning("refresh refused (%s); logging in again with the JWT", exc.error_code)
        if new is None:
            form = {"grant_type": JWT_GRANT, "assertion": self._credentials.jwt}
            new = await self._counted("login", self._grant(form, policy))
            self.logins += 1
            log.info("logged in with the JWT (ext %s)", new.owner_id)
        return new

    async def _counted(self, how: Renewal, grant: Awaitable[Token]) -> Token:
        """``grant``, told to the observer: ok, refused (``invalid_grant``) or failed."""
        try:
            token = await grant
        except InvalidGrant:
            self._observer.renewed(how, "refused")
            raise
        except Exception:
            self._observer.renewed(how, "failed")
            raise
        self._observer.renewed(how, "ok")
        return token

    def _kept(self, token: Token) -> Token:
        self._token = token
        if self._on_renew is not None:
            self._on_renew(token)
        return token

    async def _grant(self, form: Mapping[str, str], policy: RetryPolicy) -> Token:
        async def build() -> httpx.Request:
            return self._http.build_request(
                "POST",
                self._credentials.server_url + TOKEN_PATH,
                data=dict(form),
                headers={"Accept": "application/json", "Authorization": self._basic},
            )

        response = await send(
            self._http,
            build,
            group="Auth",
            pacer=self._pacer,
            policy=policy,
            idempotent=True,
            request=f"POST {TOKEN_PATH}",
        )
        if response.is_error:
            raise error_from_response(response)
        return _token_from(response.json(), self._clock.time(), response)

    # ---- background upkeep ----

    def next_upkeep_in(self) -> float:
        """Seconds until the session is renewed in the background: when the access token is
        about to expire (so the session stays valid, and ``/readyz`` ready, on a quiet line that
        makes no API call), or earlier when the refresh token has used half its life."""
        token = self._token
        if token is None:
            return 0.0
        due = token.expires_at - access_margin(token.expires_in)
        if token.refresh_token:
            due = min(due, token.issued_at + (token.refresh_expires_at - token.issued_at) / 2)
        return max(0.0, min(due, token.issued_at + DAY) - self._clock.time())

    async def _upkeep(self) -> None:
        failures = 0
        while not self._stop.is_set():
            delay = self.next_upkeep_in() if failures == 0 else self._policy.delay(failures)
            if await self._clock.wait(self._stop, at_most=delay):
                return
            try:
                async with self._lock:
                    if self.next_upkeep_in() <= 0:
                        await self._renew(self._token)
                failures = 0
            except Exception as exc:  # top of the upkeep loop: log (no secrets) and retry later
                failures += 1
                log.error("scheduled session refresh failed: %s", exc)


def _token_from(body: Any, now: float, response: httpx.Response) -> Token:
    """Parse a TokenInfo body; a malformed one is an :class:`AuthError` (never echo the body)."""
    try:
        answer = TokenAnswer.model_validate(body)
    except ValidationError:
        request = f"{response.request.method} {response.request.url.path}"
        raise AuthError(
            response.status_code, "bad-token-response", "malformed token response", None, request=request
        ) from None
    return Token(
        access_token=answer.access_token,
        expires_at=now + answer.expires_in,
        expires_in=answer.expires_in,
        refresh_token=answer.refresh_token,
        refresh_expires_at=now + answer.refresh_token_expires_in,
        issued_at=now,
        owner_id=answer.owner_id,
        scope=answer.scope,
    )
