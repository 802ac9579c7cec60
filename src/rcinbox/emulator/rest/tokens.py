"""The OAuth endpoints of the emulated platform: ``/restapi/oauth/token``, ``/revoke`` and
``/wstoken`` (PLATFORM.md §1); sessions and tokens themselves are :mod:`rcinbox.emulator.oauth`.

Token requests are form bodies with HTTP Basic client authentication. Grants the app is not
enabled for (``password``, ``authorization_code``, ``client_credentials``, ``partner_jwt``) are 400
``unauthorized_client`` OAU-251 "Unauthorized for this grant type" (observed); any other grant type
is 400 ``unsupported_grant_type`` (RFC 6749 §5.2); an unknown JWT is 400 invalid_grant OAU-140, the
documented "Invalid resource owner credentials".
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl

from rcinbox.emulator.model import App, WsToken
from rcinbox.emulator.oauth import (
    FORM,
    JWT_GRANT,
    find_session,
    missing,
    open_session,
    refresh,
    revoke_session,
    same,
    token_info,
)
from rcinbox.emulator.routing import Call, Routes
from rcinbox.emulator.wire import (
    ApiRequest,
    ApiResponse,
    OAuthError,
    empty_response,
    json_response,
    unsupported_media_type,
)
from rcinbox.emulator.world import World

routes = Routes()

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1
NOT_ENABLED = frozenset({"password", "authorization_code", "client_credentials", "partner_jwt"})


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
