"""RingCentral subscriptions API of the emulator (PLATFORM §2): create, list, read, update,
renew and delete ``/restapi/v1.0/subscription[/{subscriptionId}]``.

WebHook subscriptions are created over HTTP (after the ``Validation-Token`` handshake run by
the :class:`~rcinbox.emulator.push.webhooks.Webhooks` transport :func:`routes` is given); WebSocket
subscriptions only through the gateway, whose ``ClientRequest`` frames reach these handlers with
``transport="ws"`` and the gateway session id in the internal ``x-rcinbox-ws-session`` header
(trusted only on that transport). One subscription per WebSocket session: a second POST replaces
the first.

Event filters accepted (``~`` expanded against the caller, echoed expanded):
``…/account/{a}/extension/{e}/message-store/instant?type=SMS``,
``…/account/{a}/extension/{e}/message-store[?type=…&direction=…]`` and the renewal reminder
``/restapi/v1.0/subscription/~?threshold=N&interval=N``. Anything else is 400 SUB-508.
Another extension's events need a super admin (403 SUB-405 otherwise); another account is 403
SUB-406, an unknown extension 403 SUB-408. Errors for cases the platform does not document
(creating or updating a WebSocket subscription over HTTP) are 400 CMN-101 on
``deliveryMode.transportType``.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from rcinbox.emulator.model import Subscription, TransportType
from rcinbox.emulator.push.events import expires_in, reminder_timing
from rcinbox.emulator.push.webhooks import Webhooks, check_address
from rcinbox.emulator.routing import Call, Routes
from rcinbox.emulator.wire import (
    ApiError,
    ApiResponse,
    empty_response,
    invalid_parameter,
    is_ascii_int,
    json_response,
    mandatory,
    not_found,
)
from rcinbox.emulator.world import iso

if TYPE_CHECKING:
    from rcinbox.emulator.world import World

log = logging.getLogger("rcinbox.emulator")

BASE = "/restapi/v1.0/subscription"
WS_SESSION_HEADER = "x-rcinbox-ws-session"

MESSAGE_FILTER = re.compile(
    r"/restapi/v1\.0/account/(?P<account>[^/?]+)/extension/(?P<extension>[^/?]+)"
    r"/message-store(?P<instant>/instant)?/?(?:\?(?P<query>.*))?"
)
REMINDER_FILTER = re.compile(r"/restapi/v1\.0/subscription/~\?(?P<query>.*)")
STORE_QUERY = {"type": {"SMS", "Pager", "Fax", "VoiceMail"}, "direction": {"Inbound", "Outbound"}}


# rendering
def info(world: World, subscription: Subscription) -> dict[str, Any]:
    """``SubscriptionInfo`` exactly as the platform renders it."""
    path = f"{BASE}/{subscription.id}"
    mode: dict[str, Any] = {"transportType": subscription.transport, "encryption": False}
    if subscription.transport == "WebHook":
        mode["address"] = subscription.address
    data: dict[str, Any] = {
        "uri": path if subscription.transport == "WebSocket" else world.url(path),
        "id": subscription.id,
        "creationTime": iso(subscription.created_at),
        "status": subscription.status,
        "eventFilters": list(subscription.event_filters),
        "expirationTime": iso(subscription.expires_at),
        "expiresIn": expires_in(world, subscription),
        "deliveryMode": mode,
    }
    if subscription.status == "Blacklisted":
        data["blacklistedData"] = {
            "blacklistedAt": iso(subscription.blacklisted_at or subscription.created_at),
            "reason": subscription.blacklist_reason or "",
        }
    return data


# validation
def _query(text: str | None) -> dict[str, str] | None:
    pairs = parse_qsl(text or "", keep_blank_values=True)
    query = dict(pairs)
    return query if len(query) == len(pairs) else None  # repeated keys are not a valid filter


def _well_formed(event_filter: str) -> tuple[str, str] | None:
    """(accountId, extensionId) for message filters, ("", "") for reminders, None if invalid."""
    reminder = REMINDER_FILTER.fullmatch(event_filter)
    if reminder is not None:
        timing = _query(reminder["query"]) or {}
        valid = set(timing) == {"threshold", "interval"}
        return ("", "") if valid and all(is_ascii_int(v) and int(v) > 0 for v in timing.values()) else None
    found = MESSAGE_FILTER.fullmatch(event_filter)
    query = _query(found["query"]) if found is not None else None
    if found is None or query is None:
        return None
    if found["instant"]:
        valid = query == {"type": "SMS"}
    else:
        valid = all(value in STORE_QUERY.get(key, set()) for key, value in query.items())
    return (found["account"], found["extension"]) if valid else None


def event_filters(call: Call, raw: object) -> list[str]:
    """Validate and expand ``eventFilters`` for the caller (SUB-508/405/406/408, CMN-100/101)."""
    if raw is None:
        raise mandatory("eventFilters")
    if not isinstance(raw, list) or not raw or not all(isinstance(f, str) and f for f in raw):
        raise invalid_parameter("eventFilters")
    world, session = call.world, call.caller
    expanded = [world.expand(f, session) for f in raw]
    owners = [_well_formed(f) for f in expanded]
    invalid = [f for f, owner in zip(raw, owners, strict=True) if owner is None]
    if invalid:
        raise ApiError(400, "SUB-508", f"Invalid event filters: [{', '.join(invalid)}]")
    caller = world.extension(session.extension_id)
    for owner in owners:
        assert owner is not None
        account, extension = owner
        if not account:
            continue
        if account != str(world.account_id):
            raise ApiError(403, "SUB-406", "Not allowed subscribe for events to extensions of other account")
        if not is_ascii_int(extension) or all(ext.id != int(extension) for ext in world.extensions):
            raise ApiError(403, "SUB-408", "Not allowed subscribe for unknown user")
        if int(extension) != caller.id and not caller.super_admin:
            raise ApiError(403, "SUB-405", "Not allowed subscribe for messages to other extensions")
    return expanded


def requested_ttl(world: World, raw: object) -> int:
    """``expiresIn`` for a WebHook subscription: default 604800, at most 315360000 (clamped)."""
    if raw is None:
        return world.limits.webhook_default_ttl
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise invalid_parameter("expiresIn", str(raw))
    return min(raw, world.limits.webhook_max_ttl)


def _ws_session(call: Call) -> str | None:
    if call.request.transport != "ws":
        return None
    return call.request.headers.get(WS_SESSION_HEADER) or None


def _wrong_transport() -> ApiError:
    return invalid_parameter("deliveryMode.transportType", "WebSocket")


# lookups
def purge_expired(world: World) -> None:
    now = world.now()
    for sub_id in [s.id for s in world.subscriptions.values() if s.expires_at <= now]:
        del world.subscriptions[sub_id]
        log.info("SUBSCRIPTION %s expired and removed", sub_id)


def _owned(call: Call, renewing: bool = False) -> Subscription:
    sub_id = call.params["subscriptionId"]
    found = call.world.subscriptions.get(sub_id)
    if found is None or found.extension_id != call.caller.extension_id:
        raise not_found("subscriptionId", sub_id)
    if found.expires_at <= call.world.now():
        del call.world.subscriptions[sub_id]
        if renewing:
            raise ApiError(
                404,
                "SUB-507",
                f"Subscription with key [{sub_id}] and assigned session [{found.session_id}] was expired",
            )
        raise not_found("subscriptionId", sub_id)
    return found


# handlers
def routes(webhooks: Webhooks) -> Routes:
    """The subscriptions API; WebHook subscriptions are validated and watched by ``webhooks``."""
    table = Routes()
    table.post(BASE, group="Medium")(functools.partial(create_subscription, webhooks=webhooks))
    table.get(BASE, group="Light")(list_subscriptions)
    table.get(BASE + "/{subscriptionId}", group="Light")(read_subscription)
    table.put(BASE + "/{subscriptionId}", group="Medium")(
        functools.partial(update_subscription, webhooks=webhooks)
    )
    table.post(BASE + "/{subscriptionId}/renew", group="Light")(renew_subscription)
    table.delete(BASE + "/{subscriptionId}", group="Medium")(delete_subscription)
    return table


async def create_subscription(call: Call, webhooks: Webhooks) -> ApiResponse:
    world = call.world
    body = call.request.json_object()
    filters = event_filters(call, body.get("eventFilters"))
    mode = body.get("deliveryMode")
    if mode is None:
        raise mandatory("deliveryMode")
    if not isinstance(mode, dict):
        raise invalid_parameter("deliveryMode")
    transport = mode.get("transportType")
    if transport is None:
        raise mandatory("deliveryMode.transportType")
    if transport not in ("WebHook", "WebSocket"):
        raise invalid_parameter("deliveryMode.transportType", str(transport))
    ws_session = _ws_session(call)
    if transport == "WebSocket" and ws_session is None:
        raise _wrong_transport()
    if transport == "WebHook":
        return await _create_webhook(call, webhooks, filters, mode, body.get("expiresIn"))
    assert ws_session is not None
    for old in [s for s in world.subscriptions.values() if s.ws_session_id == ws_session]:
        del world.subscriptions[old.id]  # one subscription per WebSocket session
        log.info("SUBSCRIPTION %s replaced by a new one on WS session %s", old.id, ws_session)
    sub = _store(call, webhooks, filters, "WebSocket", world.limits.ws_subscription_ttl)
    sub.ws_session_id = ws_session
    return json_response(info(world, sub))


async def _create_webhook(
    call: Call, webhooks: Webhooks, filters: list[str], mode: dict[str, Any], expires: object
) -> ApiResponse:
    world = call.world
    ttl = requested_ttl(world, expires)
    if mode.get("address") is None:
        raise mandatory("deliveryMode.address")
    address = check_address(mode["address"])
    token = mode.get("verificationToken")
    if token is not None and not isinstance(token, str):
        raise invalid_parameter("deliveryMode.verificationToken")
    _check_limit(call)
    await webhooks.validate(address)
    sub = _store(call, webhooks, filters, "WebHook", ttl)
    sub.address = address
    sub.verification_token = token or None
    return json_response(info(world, sub))


def _check_limit(call: Call) -> None:
    world = call.world
    purge_expired(world)
    mine = sum(1 for s in world.subscriptions.values() if s.extension_id == call.caller.extension_id)
    if mine >= world.limits.max_subscriptions:
        raise ApiError(403, "SUB-505", "Subscriptions limit exceeded")


def _store(
    call: Call, webhooks: Webhooks, filters: list[str], transport: TransportType, ttl: int
) -> Subscription:
    _check_limit(call)
    now = call.world.now()
    sub = Subscription(
        id=call.world.new_uuid(),
        session_id=call.caller.id,
        extension_id=call.caller.extension_id,
        event_filters=filters,
        transport=transport,
        created_at=now,
        expires_at=now + ttl,
    )
    call.world.subscriptions[sub.id] = sub
    log.info(
        "SUBSCRIPTION %s created: ext %d, %s, %d s, %s",
        sub.id,
        sub.extension_id,
        transport,
        ttl,
        " ".join(filters),
    )
    _watch_reminders(webhooks, filters)
    return sub


def _watch_reminders(webhooks: Webhooks, filters: list[str]) -> None:
    if any(reminder_timing(f) for f in filters):
        webhooks.start_reminders()


async def list_subscriptions(call: Call) -> ApiResponse:
    world = call.world
    purge_expired(world)
    mine = [s for s in world.subscriptions.values() if s.extension_id == call.caller.extension_id]
    return json_response({"uri": world.url(BASE), "records": [info(world, s) for s in mine]})


async def read_subscription(call: Call) -> ApiResponse:
    return json_response(info(call.world, _owned(call)))


async def update_subscription(call: Call, webhooks: Webhooks) -> ApiResponse:
    body = call.request.json_object()
    sub = _owned(call, renewing=True)
    if sub.transport == "WebSocket" and _ws_session(call) is None:
        raise _wrong_transport()
    if "eventFilters" in body:
        sub.event_filters = event_filters(call, body["eventFilters"])
        _watch_reminders(webhooks, sub.event_filters)
    _extend(call, sub, body.get("expiresIn"))
    return json_response(info(call.world, sub))


async def renew_subscription(call: Call) -> ApiResponse:
    sub = _owned(call, renewing=True)
    if sub.transport == "WebSocket" and _ws_session(call) is None:
        raise _wrong_transport()
    _extend(call, sub, None)
    return json_response(info(call.world, sub))


def _extend(call: Call, sub: Subscription, expires: object) -> None:
    world = call.world
    # expiresIn is ignored for WebSocket subscriptions
    ws = sub.transport == "WebSocket"
    ttl = world.limits.ws_subscription_ttl if ws else requested_ttl(world, expires)
    sub.expires_at = world.now() + ttl
    log.info("SUBSCRIPTION %s renewed for %d s", sub.id, ttl)


async def delete_subscription(call: Call) -> ApiResponse:
    sub = _owned(call)
    del call.world.subscriptions[sub.id]
    log.info("SUBSCRIPTION %s deleted", sub.id)
    return empty_response(204)
