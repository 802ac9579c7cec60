"""Message sync: ``GET …/message-sync`` (Light) → ``GetMessageSyncResponse`` (PLATFORM §5.5).

- ``syncType=FSync`` (the default): the messages of the frame (``dateFrom``/``dateTo``, default the
  last 24 h) matching ``direction``/``messageType``/``conversationId``, newest first, at most
  ``recordCount`` (then ``olderRecordsExist: true``); no paging.
  (ISync ignores ``recordCount``: its token must not skip changes it did not return.)
- ``syncType=ISync&syncToken=…``: every message created or changed since the token, newest change
  first; deleted or purged ones only as ``{id, availability}``.

Sync tokens are opaque to clients: they name the extension and the store's change number. A missing
token is 400 CMN-100; one that is not ours (or another extension's) is 400 MSG-333.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from rcinbox.emulator.model import Message
from rcinbox.emulator.render import message_json
from rcinbox.emulator.rest import filters, sync_tokens
from rcinbox.emulator.rest.paging import positive_int
from rcinbox.emulator.routing import Call, Routes
from rcinbox.emulator.wire import (
    ApiError,
    ApiResponse,
    is_ascii_int,
    json_response,
    mandatory,
)
from rcinbox.emulator.world import World, iso

routes = Routes()

SYNC = "/restapi/v1.0/account/{accountId}/extension/{extensionId}/message-sync"


def read_token(extension_id: int, token: str) -> int:
    seq = sync_tokens.position("MS1", extension_id, token)
    if seq is not None and is_ascii_int(seq):
        return int(seq)
    raise ApiError(
        400,
        "MSG-333",
        "Invalid message synchronisation request: full synchronization is required",
        parameter="syncToken",
        value=token,
    )


def _record(world: World, message: Message) -> dict[str, Any]:
    if message.availability != "Alive":
        return {"id": message.id, "availability": message.availability}
    return message_json(world, message)


@routes.get(SYNC, group="Light")
async def sync_messages(call: Call) -> ApiResponse:
    world, request, ext_id = call.world, call.request, call.extension_id
    box = world.mailbox
    sync_type = sync_tokens.sync_type(request)
    limit = None
    seq = box.sequence  # read before collecting: a change racing this request is seen next time
    if sync_type == "ISync":
        token = request.arg("syncToken")
        if not token:
            raise mandatory("syncToken")
        match = filters.matcher(world, request, incremental=True)
        found = [m for m in reversed(box.changed_since(ext_id, read_token(ext_id, token))) if match(m)]
    else:
        match = filters.matcher(world, request)
        found = [m for m in box.of_extension(ext_id) if match(m)]
        limit = positive_int(request, "recordCount", 0) or None
        if request.arg("distinctConversations") == "true":
            found = filters.latest_per_conversation(found)
    older = limit is not None and len(found) > limit
    found = found[:limit] if limit else found
    query = [(k, v) for k, v in request.query if k != "access_token"]
    return json_response(
        {
            "uri": world.url(sync_path(world, ext_id)) + ("?" + urlencode(query) if query else ""),
            "records": [_record(world, m) for m in found],
            "syncInfo": {
                "syncType": sync_type,
                "syncToken": sync_tokens.make("MS1", ext_id, str(seq)),
                "syncTime": iso(world.now()),
                "olderRecordsExist": older,
            },
        }
    )


def sync_path(world: World, extension_id: int) -> str:
    return f"{world.account_path(extension_id)}/message-sync"
