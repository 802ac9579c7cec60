"""The control API's view of the world: the account, texts in, texts out.

- ``GET /_emulator/state`` → ``{server, app{clientId, clientSecret}, account{id}, extensions[{id,
  name, extensionNumber, jwt, superAdmin, phoneNumbers[], contacts[]}], subscriptions[]}``
- ``POST /_emulator/inbound`` ``{from, to (one number or a list), text, fromName?, attachments?:
  [{contentType, contentBase64, fileName?}]}`` → ``{messageId, notified}``; bad input is a 400 in
  RingCentral's error shape naming the field; a ``to`` no extension owns is 404 CMN-102.
- ``GET /_emulator/outbound[?since=ID]`` → ``{records: [{id, extensionId, from, to, text,
  attachments[{contentType, size, contentBase64, fileName?}], messageStatus, deliveryErrorCode?,
  creationTime}]}``:
  every message sent through ``/sms`` and ``/mms`` with an id greater than ``since``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import logging
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from rcinbox.emulator import phones
from rcinbox.emulator.control import answer
from rcinbox.emulator.model import Extension, Message, Subscription
from rcinbox.emulator.rest.accounts import contact_fields
from rcinbox.emulator.rest.compose import Upload
from rcinbox.emulator.rest.inbound import Inbound, NoRecipient, inject
from rcinbox.emulator.wire import (
    ApiError,
    invalid_parameter,
    is_ascii_int,
    json_response,
    loads,
    mandatory,
    read_body,
    unparseable_json,
)
from rcinbox.emulator.world import World, iso

log = logging.getLogger("rcinbox.emulator")


def routes(world: World) -> list[BaseRoute]:
    async def state(request: Request) -> Response:
        return answer(request, json_response(state_of(world)), "state shown")

    async def inbound(request: Request) -> Response:
        try:
            parsed = parse_inbound(await read_body(request))
            message_id, notified = inject(world, parsed)
        except ApiError as exc:
            return answer(request, exc.response(), f"refused: {exc.code} {exc.message}")
        except NoRecipient as exc:
            error = ApiError(
                404,
                "CMN-102",
                f"Resource for parameter [to] is not found: no extension owns {exc}",
                parameter="to",
                value=str(exc),
            )
            return answer(request, error.response(), f"refused: CMN-102 no extension owns {exc}")
        summary = f"message {message_id}, {notified} notification(s)"
        return answer(request, json_response({"messageId": message_id, "notified": notified}), summary)

    async def outbound(request: Request) -> Response:
        raw = request.query_params.get("since", "0")
        if not is_ascii_int(raw.removeprefix("-")):
            error = invalid_parameter("since", raw)
            return answer(request, error.response(), "refused: CMN-101 since")
        records = outbound_since(world, int(raw))
        return answer(request, json_response({"records": records}), f"{len(records)} record(s)")

    return [
        Route("/_emulator/state", state, methods=["GET"]),
        Route("/_emulator/inbound", inbound, methods=["POST"]),
        Route("/_emulator/outbound", outbound, methods=["GET"]),
    ]


def state_of(world: World) -> dict[str, Any]:
    return {
        "server": world.server_url,
        "app": {"clientId": world.app.client_id, "clientSecret": world.app.client_secret},
        "account": {"id": world.account_id},
        "extensions": [_extension(ext) for ext in world.extensions],
        "subscriptions": [_subscription(world, sub) for sub in world.subscriptions.values()],
    }


def _extension(ext: Extension) -> dict[str, Any]:
    return {
        "id": ext.id,
        "name": ext.name,
        "extensionNumber": ext.extension_number,
        "jwt": ext.jwt,
        "superAdmin": ext.super_admin,
        "phoneNumbers": [pn.phone_number for pn in ext.phone_numbers],
        "contacts": [contact_fields(c) for c in ext.contacts if c.availability == "Alive"],
    }


def _subscription(world: World, sub: Subscription) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": sub.id,
        "extensionId": sub.extension_id,
        "transportType": sub.transport,
        "status": sub.status,
        "eventFilters": list(sub.event_filters),
        "expirationTime": iso(sub.expires_at),
    }
    if sub.address:
        record["address"] = sub.address
    return record


def _outbound_record(world: World, message: Message) -> dict[str, Any]:
    attachments = []
    for att in message.attachments:
        if att.type == "Text":
            continue
        item = {
            "contentType": att.content_type,
            "size": len(att.content),
            "contentBase64": base64.b64encode(att.content).decode(),
        }
        if att.file_name:
            item["fileName"] = att.file_name
        attachments.append(item)
    record = {
        "id": message.id,
        "extensionId": message.extension_id,
        "from": message.from_number,
        "to": list(message.to_numbers),
        "text": message.text,
        "attachments": attachments,
        "messageStatus": message.status,
        "creationTime": iso(message.created_at),
    }
    error = world.mailbox.delivery_errors.get(message.id)
    if error:
        record["deliveryErrorCode"] = error
    return record


def outbound_since(world: World, since: int) -> list[dict[str, Any]]:
    sent = world.mailbox.outbound
    start = bisect.bisect_right(sent, since, key=lambda m: m.id)
    return [_outbound_record(world, m) for m in sent[start:]]


_ALPHANUMERIC = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")  # e.g. "AMAZON", "Verify"


def _field(body: dict[str, Any], name: str) -> Any:
    if body.get(name) in (None, "", []):
        raise mandatory(name)
    return body[name]


def _number(raw: Any, name: str) -> str:
    parsed = phones.parse(raw) if isinstance(raw, str) else None
    if parsed is None or parsed.short:
        raise invalid_parameter(name, str(raw))
    return parsed.number


def _sender(raw: Any) -> str:
    """Who texted: a full number in E.164; a short code or an alphanumeric sender id as carriers pass it."""
    if isinstance(raw, str) and _ALPHANUMERIC.fullmatch(raw):
        return raw
    parsed = phones.parse(raw) if isinstance(raw, str) else None
    if parsed is None:
        raise invalid_parameter("from", str(raw))
    return parsed.number.removeprefix("+") if parsed.short else parsed.number


def parse_inbound(raw: bytes) -> Inbound:
    body = loads(raw)
    if not isinstance(body, dict):
        raise unparseable_json()
    sender = _sender(_field(body, "from"))
    to = _field(body, "to")
    targets = [to] if isinstance(to, str) else to
    if not isinstance(targets, list):
        raise invalid_parameter("to", str(to))
    to_numbers = tuple(dict.fromkeys(_number(n, "to") for n in targets))
    text = body.get("text", "")
    if not isinstance(text, str):
        raise invalid_parameter("text", str(text))
    name = body.get("fromName")
    if name is not None and not isinstance(name, str):
        raise invalid_parameter("fromName", str(name))
    uploads = _uploads(body.get("attachments") or [])
    if not text and not uploads:
        raise mandatory("text")
    return Inbound(sender, to_numbers, text, name or None, uploads)


def _uploads(items: Any) -> tuple[Upload, ...]:
    if not isinstance(items, list):
        raise invalid_parameter("attachments")
    uploads = []
    for i, item in enumerate(items):
        where = f"attachments[{i}]"
        if not isinstance(item, dict):
            raise invalid_parameter(where)
        kind = item.get("contentType")
        if not isinstance(kind, str) or "/" not in kind:
            raise invalid_parameter(f"{where}.contentType", str(kind))
        encoded = item.get("contentBase64")
        try:
            content = base64.b64decode(encoded, validate=True) if isinstance(encoded, str) else b""
        except (binascii.Error, ValueError):
            content = b""
        if not content:
            raise invalid_parameter(f"{where}.contentBase64")
        name = item.get("fileName")
        uploads.append(Upload(kind.lower(), content, name if isinstance(name, str) else None))
    return tuple(uploads)
