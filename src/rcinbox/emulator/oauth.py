"""OAuth of the emulated platform: ``/restapi/oauth/token``, ``/revoke`` and ``/wstoken`` (PLATFORM.md §1).

Token grants (form body, HTTP Basic client auth):

- ``urn:ietf:params:oauth:grant-type:jwt-bearer``: ``assertion`` is an extension's JWT
  credential; every login opens a new :class:`Session`. At most ``limits.max_sessions``
  live sessions per user and app: opening one more revokes the oldest (its tokens then get
  401 TokenInvalid/OAU-213).
- ``refresh_token``: single use and rotating. The refresh issues a new access and refresh
  token and the old access token dies at once. The old refresh token keeps a grace window
  in which presenting it again returns the *same* current tokens: up to 60 min while the new
  access token is unused, 10 s after its first use (:func:`note_use`, called by the
  dispatcher). After that it is refused with 400 invalid_grant OAU-210 "Token expired".

``access_token_ttl`` (clamped to 600..3600) and ``refresh_token_ttl`` (clamped to
1..2592000) are honoured; the defaults come from ``world.limits``. Error bodies are
RingCentral's OAuth shape (:class:`OAuthError`); the codes are those observed or documented
in PLATFORM.md §1.4, with one inferred choice each for an unknown JWT (OAU-140, the
documented "Invalid resource owner credentials") and a missing parameter (OAU-101).
Grants the app is not enabled for (``password``, ``authorization_code``, ``client_credentials``,
``partner_jwt``) are 400 ``unauthorized_client`` OAU-251 "Unauthorized for this grant type"
(observed); any other grant type is 400 ``unsupported_grant_type`` (RFC 6749 §5.2).

Sessions revoked or expired more than ``RETENTION`` (1 h) ago are forgotten at the next login,
so a long-running emulator does not grow; their tokens are then "Token not found" (OAU-213).
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from rcinbox.emulator.model import App, Extension, Session, WsToken
from rcinbox.emulator.routing import Call, Routes
from rcinbox.emulator.wire import (
    ApiRequest,
    ApiResponse,
    OAuthError,
    empty_response,
    json_response,
    unsupported_media_type,
)

if TYPE_CHECKING:
    from rcinbox.emulator.world import World

log = logging.getLogger("rcinbox.emulator")

routes = Routes()

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FORM = "application/x-www-form-urlencoded"
ACCESS_TTL_RANGE = (600, 3600)  # SPEC BaseTokenRequest.access_token_ttl
REFRESH_TTL_RANGE = (1, 2592000)  # SPEC BaseTokenRequest.refresh_token_ttl (max 30 days)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1
GRACE_UNUSED = 3600.0  # old refresh token still answers while the new access token is unused
GRACE_AFTER_USE = 10.0  # ... and this long after the new access token's first use
RETENTION = 3600.0  # a revoked or expired session is forgotten this long after it ended
NOT_ENABLED = frozenset({"password", "authorization_code", "client_credentials", "partner_jwt"})


# --- request parsing -----------------------------------------------------------------------


def read_form(request: ApiRequest, *, required: bool = True) -> dict[str, str]:
    """The form body; 415 for another content type, OAU-111 for a repeated parameter."""
    if not request.body.strip() and not required:
        return {}
    if request.content_type != FORM:
        raise unsupported_media_type(FORM)
    pairs = parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    form = dict(pairs)
    if len(form) != len(pairs):
        raise OAuthError(400, "invalid_request", "OAU-111", "Request parameter duplication detected")
    return form


def authenticate_client(world: World, request: ApiRequest) -> App:
    """HTTP Basic ``client_id:client_secret`` against the world's app (RFC 6749 §2.3.1)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise OAuthError(401, "invalid_client", "OAU-123", "Client authentication is required")
    try:
        client_id, _, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        client_id, secret = "", ""
    app = world.app
    if not (same(client_id, app.client_id) and same(secret, app.client_secret)):
        raise OAuthError(401, "invalid_client", "OAU-153", "Invalid client: ", parameter="client_id")
    return app


def same(given: str, expected: str) -> bool:
    """Constant-time comparison that also accepts non-ASCII input (bad input is not a crash)."""
    return secrets.compare_digest(given.encode(), expected.encode())


def missing(name: str) -> OAuthError:
    return OAuthError(400, "invalid_request", "OAU-101", f"Parameter [{name}] is invalid", parameter=name)


def ttl(form: dict[str, str], name: str, default: int, bounds: tuple[int, int]) -> int:
    raw = form.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise missing(name) from None
    return max(bounds[0], min(bounds[1], value))


def granted_scopes(app: App, form: dict[str, str]) -> tuple[str, ...]:
    """The requested scopes the app has; all of the app's when none (or none known) is asked for."""
    requested = form.get("scope", "").split()
    narrowed = tuple(scope for scope in app.scopes if scope in requested)
    return narrowed or app.scopes


# --- sessions ------------------------------------------------------------------------------


def open_session(world: World, ext: Extension, app: App, form: dict[str, str]) -> Session:
    now = world.now()
    access_ttl = ttl(form, "access_token_ttl", world.limits.access_ttl, ACCESS_TTL_RANGE)
    refresh_ttl = ttl(form, "refresh_token_ttl", world.limits.refresh_ttl, REFRESH_TTL_RANGE)
    session = Session(
        id=world.new_uuid(),
        extension_id=ext.id,
        account_id=world.account_id,
        client_id=app.client_id,
        access_token=world.new_token(),
        access_expires_at=now + access_ttl,
        refresh_token=world.new_token(),
        refresh_expires_at=now + refresh_ttl,
        created_at=now,
        endpoint_id=form.get("endpoint_id") or secrets.token_urlsafe(16),
        scopes=granted_scopes(app, form),
    )
    prune_sessions(world)
    world.sessions[session.id] = session
    log.info("oauth: ext %d logged in with JWT (session %s)", ext.id, session.id)
    enforce_session_limit(world, session)
    return session


def enforce_session_limit(world: World, newest: Session) -> None:
    """Revoke the oldest live sessions of the same user and app beyond ``limits.max_sessions``."""
    now = world.now()
    live = sorted(
        (
            s
            for s in world.sessions.values()
            if s.extension_id == newest.extension_id
            and s.client_id == newest.client_id
            and not s.revoked
            and s.refresh_expires_at > now
        ),
        key=lambda s: s.created_at,
    )
    for oldest in live[: max(len(live) - world.limits.max_sessions, 0)]:
        revoke_session(world, oldest, "session limit reached")


def prune_sessions(world: World) -> None:
    """Forget sessions revoked or expired more than ``RETENTION`` ago (their tokens stay refused)."""
    cutoff = world.now() - RETENTION
    for stale in [s for s in world.sessions.values() if s.ended_at() <= cutoff]:
        del world.sessions[stale.id]


def revoke_session(world: World, session: Session, reason: str) -> None:
    session.revoked = True
    session.revoked_at = world.now()
    session.previous_refresh_token = None
    for token in [t for t, ws in world.ws_tokens.items() if ws.session_id == session.id]:
        del world.ws_tokens[token]
    log.info("oauth: session %s of ext %d revoked (%s)", session.id, session.extension_id, reason)


def note_use(session: Session, now: float) -> None:
    """The access token was used: its predecessor refresh token now has only ``GRACE_AFTER_USE`` left."""
    if session.previous_refresh_token is not None:
        session.previous_refresh_until = min(session.previous_refresh_until, now + GRACE_AFTER_USE)


def refresh(world: World, app: App, form: dict[str, str]) -> Session:
    token = form.get("refresh_token", "")
    if not token:
        raise missing("refresh_token")
    now = world.now()
    for session in world.sessions.values():
        if session.client_id != app.client_id or session.revoked:
            continue
        if same(session.refresh_token, token):
            if session.refresh_expires_at <= now:
                raise token_expired()
            rotate(world, session, form)
            return session
        previous = session.previous_refresh_token
        if previous is not None and same(previous, token):
            if now < session.previous_refresh_until and session.refresh_expires_at > now:
                log.info("oauth: session %s re-presented its previous refresh token (grace)", session.id)
                return session
            raise token_expired()
    raise OAuthError(400, "invalid_grant", "OAU-213", "Token not found")


def rotate(world: World, session: Session, form: dict[str, str]) -> None:
    now = world.now()
    access_ttl = ttl(form, "access_token_ttl", world.limits.access_ttl, ACCESS_TTL_RANGE)
    refresh_ttl = ttl(form, "refresh_token_ttl", world.limits.refresh_ttl, REFRESH_TTL_RANGE)
    session.previous_refresh_token = session.refresh_token
    session.previous_refresh_until = min(now + GRACE_UNUSED, session.refresh_expires_at)
    session.access_token = world.new_token()
    session.access_expires_at = now + access_ttl
    session.refresh_token = world.new_token()
    session.refresh_expires_at = now + refresh_ttl
    log.info("oauth: session %s of ext %d refreshed", session.id, session.extension_id)


def token_expired() -> OAuthError:
    return OAuthError(400, "invalid_grant", "OAU-210", "Token expired")


def token_info(world: World, session: Session) -> dict[str, Any]:
    """SPEC ``TokenInfo``."""
    now = world.now()
    return {
        "access_token": session.access_token,
        "token_type": "bearer",
        "expires_in": max(round(session.access_expires_at - now), 0),
        "refresh_token": session.refresh_token,
        "refresh_token_expires_in": max(round(session.refresh_expires_at - now), 0),
        "scope": " ".join(session.scopes),
        "owner_id": str(session.extension_id),
        "endpoint_id": session.endpoint_id,
        "session_id": session.id,
    }


def find_session(world: World, token: str) -> Session | None:
    for session in world.sessions.values():
        if token in (session.access_token, session.refresh_token, session.previous_refresh_token):
            return session
    return None


def token_owner(world: World, request: ApiRequest) -> int | None:
    """The extension a token, revoke or refresh call acts for (its Auth-group counter), if known."""
    body = request.body.decode("utf-8", "replace") if request.content_type == FORM else ""
    form = dict(parse_qsl(body, keep_blank_values=True))
    if form.get("grant_type") == JWT_GRANT:
        assertion = form.get("assertion", "")
        ext = world.extension_by_jwt(assertion) if assertion.isascii() else None
        return ext.id if ext is not None else None
    token = form.get("refresh_token") or form.get("token") or request.arg("token")
    session = find_session(world, token) if token else None
    return session.extension_id if session is not None else None


# --- endpoints -----------------------------------------------------------------------------


@routes.post("/restapi/oauth/token", group="Auth", auth="client")
async def get_token(call: Call) -> ApiResponse:
    world = call.world
    form = read_form(call.request)
    app = authenticate_client(world, call.request)
    grant = form.get("grant_type", "")
    if grant == JWT_GRANT:
        assertion = form.get("assertion", "")
        if not assertion:
            raise missing("assertion")
        ext = world.extension_by_jwt(assertion) if assertion.isascii() else None
        if ext is None:
            raise OAuthError(400, "invalid_grant", "OAU-140", "Invalid resource owner credentials")
        session = open_session(world, ext, app, form)
    elif grant == "refresh_token":
        session = refresh(world, app, form)
    elif not grant:
        raise missing("grant_type")
    elif grant in NOT_ENABLED:  # PLATFORM §1.4: a grant the app is not enabled for
        raise OAuthError(400, "unauthorized_client", "OAU-251", "Unauthorized for this grant type")
    else:  # RFC 6749 §5.2: a grant type the server does not know
        raise OAuthError(400, "unsupported_grant_type", "OAU-250", "Unsupported grant type")
    return json_response(token_info(world, session), headers=NO_STORE)


@routes.post("/restapi/oauth/revoke", group="Auth", auth="client")
async def revoke_token(call: Call) -> ApiResponse:
    """RFC 7009: the whole session dies; an unknown token is not an error."""
    world = call.world
    form = read_form(call.request, required=False)
    authenticate_client(world, call.request)
    token = form.get("token") or call.request.arg("token")
    if not token:
        raise missing("token")
    session = find_session(world, token)
    if session is not None and not session.revoked:
        revoke_session(world, session, "revoked by the client")
    return empty_response(200)


@routes.post("/restapi/oauth/wstoken", group="Auth")
async def ws_token(call: Call) -> ApiResponse:
    """A token for the WebSocket gateway, good for new connections until it expires."""
    world, session = call.world, call.caller
    now = world.now()
    for stale in [t for t, ws in world.ws_tokens.items() if ws.expires_at <= now]:
        del world.ws_tokens[stale]
    ttl_seconds = world.limits.wstoken_ttl
    token = world.new_token("V1NDMDFUMDRKV1MwMX")
    world.ws_tokens[token] = WsToken(token=token, session_id=session.id, expires_at=now + ttl_seconds)
    return json_response({"ws_access_token": token, "uri": ws_uri(world), "expires_in": ttl_seconds})


def ws_uri(world: World) -> str:
    base = world.server_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base.removeprefix("https://")
    elif base.startswith("http://"):
        base = "ws://" + base.removeprefix("http://")
    return base + "/ws"
