"""OAuth sessions and tokens of the emulated platform (PLATFORM.md §1); the endpoints that grant,
refresh and revoke them (``/restapi/oauth/token``, ``/revoke``, ``/wstoken``) are
:mod:`rcinbox.emulator.rest.tokens`, the dispatcher checks bearer tokens with them.

Token grants:

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
in PLATFORM.md §1.4, with one inferred choice for a missing parameter (OAU-101).

Sessions revoked or expired more than ``RETENTION`` (1 h) ago are forgotten at the next login,
so a long-running emulator does not grow; their tokens are then "Token not found" (OAU-213).
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from rcinbox.emulator.model import App, Extension, Session
from rcinbox.emulator.wire import ApiRequest, OAuthError

if TYPE_CHECKING:
    from rcinbox.emulator.world import World

log = logging.getLogger("rcinbox.emulator")

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FORM = "application/x-www-form-urlencoded"
ACCESS_TTL_RANGE = (600, 3600)  # SPEC BaseTokenRequest.access_token_ttl
REFRESH_TTL_RANGE = (1, 2592000)  # SPEC BaseTokenRequest.refresh_token_ttl (max 30 days)
GRACE_UNUSED = 3600.0  # old refresh token still answers while the new access token is unused
GRACE_AFTER_USE = 10.0  # ... and this long after the new access token's first use
RETENTION = 3600.0  # a revoked or expired session is forgotten this long after it ended


# --- form values ---------------------------------------------------------------------------


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
