"""``rcinbox doctor``'s checks against RingCentral: server, JWT login, scopes, numbers, subscription.

Each check returns :class:`~rcinbox.cli.doctor_findings.Finding` values with a "what to fix" line. The
doctor uses the service's own session: the one saved in ``DATA_DIR/tokens.json`` when it is valid
for this server, app and JWT (refreshed when due, the new pair saved back), else a JWT login whose
session it saves there for ``rcinbox run`` to continue. Checking a setup again and again therefore
costs no Auth-group request (RingCentral allows 5 per user per minute) and opens no extra session,
and the following ``rcinbox run`` does not wait for that budget. Sender JWTs are checked the same
way with their ``tokens-<extension id>.json``. Only when the data directory is not writable (or a
sender JWT belongs to another extension) is the session revoked again at the end.

Nothing here prints a token or a credential: details are built from ids, numbers, scopes and the
platform's own error code and message (redacted).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from rcinbox.cli.doctor_findings import Finding, fail, ok, skip, warn
from rcinbox.errors import (
    AuthError,
    InvalidGrant,
    PlatformError,
    RateLimited,
    RcinboxError,
    transport_errors,
)
from rcinbox.platform import Credentials, PlatformClient, TokenManager
from rcinbox.platform.retry import RetryPolicy
from rcinbox.platform.tokenfile import TokenFile
from rcinbox.settings import Settings
from rcinbox.timestamps import rc_time
from rcinbox.wire import PhoneNumber

BASE_SCOPES = ("ReadAccounts", "ReadContacts", "ReadMessages", "SMS")
TRANSPORT_SCOPE = {"websocket": "WebSocketsSubscriptions", "webhook": "SubscriptionWebhook"}
# A doctor answers fast or says why: one retry, and a 429 penalty longer than 5 s is reported, not waited.
QUICK = RetryPolicy(attempts=2, base_delay=0.5, max_delay=2.0, max_retry_after=5.0)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
LATER = ("JWT login", "scopes", "phone numbers", "subscription")  # skipped after an earlier failure


async def platform_findings(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None, *, keep_sessions: bool = True
) -> list[Finding]:
    """Server, login, scopes, numbers, (webhook URL,) subscription; later ones skipped after a failure.
    ``keep_sessions``: use and save the sessions in the data directory (False: it is not writable)."""
    hook = [finding] if (finding := webhook_url(settings)) is not None else []
    async with httpx.AsyncClient(timeout=TIMEOUT, transport=transport, trust_env=False) as http:
        reach = await reachable(http, settings)
        if reach.status == "fail":
            return [reach, *(skip(name, "server unreachable") for name in LATER), *hook]
        async with _session(http, settings, keep_sessions) as (login, client):
            if client is None:
                return [reach, login, *(skip(name, "no session") for name in LATER[1:]), *hook]
            found = [reach, login, scopes(client, settings), await numbers(client, settings)]
            own = client.auth.owner_id or ""
            found += [f for f in [await senders(http, settings, own, keep_sessions)] if f]
            return [*found, *hook, await subscription(client, settings)]


async def reachable(http: httpx.AsyncClient, settings: Settings) -> Finding:
    url = settings.server_url + "/restapi/v1.0"
    try:
        with transport_errors("GET", url):
            response = await http.get(url, headers={"Accept": "application/json"})
    except RcinboxError as exc:
        return fail(
            "server",
            f"{settings.server_url} did not answer: {exc}",
            "check RC_SERVER_URL (https://platform.ringcentral.com for production, or the emulator's "
            "URL) and that this host can reach it (firewall, proxy, DNS)",
        )
    return _answered(settings.server_url, response)


def _answered(server: str, response: httpx.Response) -> Finding:
    """What the answer to ``GET /restapi/v1.0`` (RingCentral's API version info) tells."""
    try:
        version = response.json().get("versionString") if response.status_code == 200 else None
    except (ValueError, AttributeError):
        version = None
    if isinstance(version, str) and version:
        return ok("server", f"{server} is reachable: RingCentral REST API {version} (GET /restapi/v1.0)")
    if response.status_code >= 500:
        return warn(
            "server",
            f"{server} is reachable, but GET /restapi/v1.0 failed there with HTTP {response.status_code}",
            "RingCentral may be having trouble (https://status.ringcentral.com): run the doctor again "
            "later; if RC_SERVER_URL goes through a proxy, check the proxy",
        )
    return ok(
        "server", f"{server} is reachable over the network (the JWT login below checks the credentials)"
    )


@contextlib.asynccontextmanager
async def _session(
    http: httpx.AsyncClient, settings: Settings, keep: bool
) -> AsyncIterator[tuple[Finding, PlatformClient | None]]:
    credentials = Credentials(settings.server_url, settings.client_id, settings.client_secret, settings.jwt)
    token_file = settings.token_file if keep else None
    auth = TokenManager(http, credentials, token_file=token_file, policy=QUICK)
    try:
        await auth.start(background=False)
    except AuthError as exc:
        yield _login_failed(exc), None
        return
    except RateLimited as exc:
        yield _rate_limited(exc), None
        return
    except RcinboxError as exc:
        yield fail("JWT login", str(exc), "retry later; if it persists, check RC_SERVER_URL"), None
        return
    client = PlatformClient(http, auth, settings.server_url, policy=QUICK)
    how = _how(auth, token_file)
    try:
        info = await client.extension_info()
        who = f"ext {info.extension_number or '?'} {info.name or ''}".strip()
        yield ok("JWT login", f"logged in as {who} (id {auth.owner_id}){how}"), client
    except PlatformError as exc:
        yield ok("JWT login", f"logged in (ext id {auth.owner_id}){how}; reading it failed: {exc}"), client
    finally:
        if token_file is None:
            await _revoke(http, settings, auth)


def _how(auth: TokenManager, token_file: Path | None) -> str:
    """How the doctor came by its session, for the login finding."""
    if token_file is None:
        return ", with a session revoked again (the data directory is not writable)"
    if auth.logins == 0:
        return f", with the saved session ({token_file})"
    return f", session saved to {token_file} for `rcinbox run`"


async def senders(http: httpx.AsyncClient, settings: Settings, own: str, keep: bool = True) -> Finding | None:
    """Super admin receiving for other extensions: each needs its own user's JWT to send replies.

    ``None`` when rcinbox only receives for the JWT user. Each sender JWT's session (the saved one,
    or a login saved for ``rcinbox run``) must be accepted and belong to that very extension.
    """
    others = [ext for ext in settings.extensions if ext != own]
    if not others:
        return None
    missing = [ext for ext in others if settings.sender_jwts.get(ext) is None]
    problems = [p for ext in others if (p := await _sender_problem(http, settings, ext, keep)) is not None]
    fix = (
        "add ID=JWT entries to RCINBOX_SENDER_JWTS with each extension's own user's JWT: RingCentral "
        "lets nobody send SMS from another user's numbers, not even a super admin"
    )
    if problems:
        return fail("sender credentials", "; ".join(problems), fix)
    if missing:
        detail = f"no sender JWT for extension(s) {', '.join(missing)}: their messages are archived, "
        return warn("sender credentials", detail + "replies suppressed (no-sender-credential)", fix)
    return ok("sender credentials", f"replies for extension(s) {', '.join(others)} go out as their own users")


async def _sender_problem(http: httpx.AsyncClient, settings: Settings, ext: str, keep: bool) -> str | None:
    """``ext``'s sender session (saved, or a login with its JWT): what is wrong with it, or ``None``.
    A session of another extension is revoked and its file removed: the service would refuse it."""
    jwt = settings.sender_jwts.get(ext)
    if jwt is None:
        return None
    credentials = Credentials(settings.server_url, settings.client_id, settings.client_secret, jwt)
    token_file = settings.sender_token_file(ext) if keep else None
    auth = TokenManager(http, credentials, token_file=token_file, policy=QUICK)
    try:
        await auth.start(background=False)
    except RcinboxError as exc:
        return f"the sender JWT of extension {ext} is refused ({exc})"
    if auth.owner_id != ext:
        await _revoke(http, settings, auth)
        if token_file is not None:
            await asyncio.to_thread(TokenFile(token_file, credentials.fingerprint).delete)
        return f"the sender JWT given for extension {ext} logs in as extension {auth.owner_id}"
    if token_file is None:
        await _revoke(http, settings, auth)
    return None


def _rate_limited(exc: RateLimited) -> Finding:
    return fail(
        "JWT login",
        f"rate-limited by RingCentral: {exc}",
        "RingCentral allows 5 Auth requests (logins, refreshes, revokes, WebSocket tokens) per user per "
        f"minute, and a running rcinbox uses some: wait {exc.retry_after:.0f} s, then run the doctor again",
    )


def _login_failed(exc: AuthError) -> Finding:
    if isinstance(exc, InvalidGrant):
        fix = (
            "RC_USER_JWT is invalid, expired or revoked, or belongs to another app/environment: create a "
            "new JWT credential for the user (Developer Console → Credentials) and set RC_USER_JWT"
        )
    elif exc.oauth_error == "invalid_client":
        fix = "RC_APP_CLIENT_ID / RC_APP_CLIENT_SECRET are wrong: copy them from the app's Credentials page"
    elif exc.oauth_error == "unauthorized_client":
        fix = 'the app may not use JWT login: select the "JWT auth flow" in the app\'s Auth settings'
    else:
        fix = "check RC_APP_CLIENT_ID, RC_APP_CLIENT_SECRET and RC_USER_JWT for this server"
    return fail("JWT login", f"refused: {exc}", fix)


async def _revoke(http: httpx.AsyncClient, settings: Settings, auth: TokenManager) -> None:
    """End the doctor's session (best effort): RingCentral allows only a few per user."""
    token = auth.token
    if token is None:
        return
    with contextlib.suppress(httpx.HTTPError):
        await http.post(
            settings.server_url + "/restapi/oauth/revoke",
            data={"token": token.access_token},
            auth=(settings.client_id, settings.client_secret),
        )


def needed_scopes(settings: Settings) -> tuple[str, ...]:
    return (*BASE_SCOPES, TRANSPORT_SCOPE[settings.transport])


def scopes(client: PlatformClient, settings: Settings) -> Finding:
    token = client.auth.token
    granted = set((token.scope if token else "").split())
    missing = [scope for scope in needed_scopes(settings) if scope not in granted]
    if missing:
        return fail(
            "scopes",
            f"the token lacks {', '.join(missing)}",
            f"add the permission(s) {', '.join(missing)} to the app (Developer Console → Settings → "
            "Security → App scopes); a production app needs the change approved",
        )
    return ok("scopes", ", ".join(needed_scopes(settings)))


async def numbers(client: PlatformClient, settings: Settings) -> Finding:
    extensions = settings.extensions or ("~",)
    senders: list[str] = []
    others: list[str] = []
    for ext in extensions:
        try:
            records = await client.phone_numbers(ext)
        except PlatformError as exc:
            return fail(
                "phone numbers",
                f"cannot list the numbers of extension {ext}: {exc}",
                "RCINBOX_EXTENSIONS may list other extensions only when the JWT user is a super admin",
            )
        for record in records:
            (senders if "SmsSender" in record.features else others).append(_number(record, ext))
    detail = f"can send SMS: {', '.join(senders) or 'none'}"
    if others:
        detail += f"; without SmsSender (received only, never answered from): {', '.join(others)}"
    if not senders:
        return fail(
            "phone numbers",
            detail,
            "assign an SMS-enabled direct number to the extension (Admin Portal → Phone System → Phone "
            "Numbers) and register it for A2P SMS; rcinbox replies only from numbers with SmsSender",
        )
    return ok("phone numbers", detail)


def _number(record: PhoneNumber, ext: str) -> str:
    number = record.phone_number or "?"
    return number if ext == "~" else f"{number} (ext {ext})"


async def subscription(client: PlatformClient, settings: Settings) -> Finding:
    if settings.transport == "websocket":
        # Nothing to check in advance (a WebSocket subscription lives with its connection), and a
        # wstoken would cost one of the 5 Auth-group requests a user may make per minute.
        return ok("subscription", "WebSocket: `rcinbox run` subscribes on each connection")
    try:
        records = await client.list_subscriptions()
    except PlatformError as exc:
        return fail(
            "subscription", f"cannot list subscriptions: {exc}", "check the SubscriptionWebhook scope"
        )
    mine = [r for r in records if r.address == settings.webhook_url]
    if not mine:
        return fail(
            "subscription",
            f"no WebHook subscription posts to {settings.webhook_url}",
            "start `rcinbox run` (it creates the subscription and renews it) and make sure "
            "RCINBOX_WEBHOOK_URL reaches this service from the internet",
        )
    active = [r for r in mine if r.status == "Active"]
    if not active:
        return fail(
            "subscription",
            f"subscription {mine[0].id} is {mine[0].status}",
            "RingCentral stopped delivering (failed deliveries): check that the URL reaches "
            "RCINBOX_HOST:RCINBOX_PORT through the reverse proxy, then restart `rcinbox run`",
        )
    found = active[0]
    until = rc_time(found.expiration_time) if found.expiration_time else None
    return ok("subscription", f"{found.id} Active until {until}")


def webhook_url(settings: Settings) -> Finding | None:
    if settings.transport != "webhook":
        return None
    url = settings.webhook_url or ""
    if url.startswith("https://"):
        return ok("webhook URL", f"{url} (served locally at {settings.webhook_path})")
    return warn(
        "webhook URL",
        f"{url} is not https: RingCentral only delivers to https URLs (fine for the emulator)",
        "put the service behind a TLS reverse proxy and set RCINBOX_WEBHOOK_URL to its https:// address",
    )
