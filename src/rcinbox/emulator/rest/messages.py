"""The messaging API: sending SMS/MMS and the message store.

- ``POST …/sms`` and ``POST …/mms`` (Medium) → 200 ``GetSMSMessageInfoResponse`` with
  ``messageStatus: "Queued"``; validation in :mod:`rcinbox.emulator.rest.sending`; the message is
  stored for the sender, logged for ``GET /_emulator/outbound`` and then moves Queued → Sent →
  Delivered (:mod:`rcinbox.emulator.push.notify`). On delivery, recipients that are numbers of the
  account receive it as an inbound message (instant event included), as on the platform.
- ``GET …/message-store`` (Light) → ``GetMessageList``; filters ``dateFrom``/``dateTo`` (default the
  last 24 h), ``direction``, ``messageType``, ``readStatus``, ``availability`` (default Alive),
  ``conversationId``, ``phoneNumber``, ``distinctConversations``, ``page``/``perPage``; newest first.
- ``GET …/message-store/{messageId}`` (Light; with ``vmSideRecipients`` = ``to``, which the spec
  requires); ``PUT`` with ``{"readStatus"}`` (Medium);
  ``DELETE`` (Medium, 204, the message stays with ``availability: Deleted``, or ``Purged``).
- ``GET …/message-store/{messageId}/content/{attachmentId}`` (Medium, media host) → the stored
  bytes with their ``Content-Type``.
- ``GET …/message-sync``: see :mod:`rcinbox.emulator.rest.sync`.
"""

from __future__ import annotations

from rcinbox.emulator.model import Extension, Message
from rcinbox.emulator.push import notify
from rcinbox.emulator.render import message_json
from rcinbox.emulator.rest import filters, sync
from rcinbox.emulator.rest.compose import Upload, new_message
from rcinbox.emulator.rest.inbound import Inbound, inject
from rcinbox.emulator.rest.paging import Page, PerPage
from rcinbox.emulator.rest.sending import Outgoing, check_caller, read_outgoing
from rcinbox.emulator.routing import Call, Routes
from rcinbox.emulator.wire import (
    ApiResponse,
    empty_response,
    invalid_parameter,
    is_ascii_int,
    json_response,
    mandatory,
    not_found,
)
from rcinbox.emulator.world import World

routes = Routes()
routes.include(sync.routes)

EXTENSION = "/restapi/v1.0/account/{accountId}/extension/{extensionId}"
STORE = EXTENSION + "/message-store"
STORE_PAGE = PerPage(zero=True)  # listMessages: default 100; MessagingPagingInfo: over 1000, 1000 applies


# sending
def store_outgoing(world: World, ext: Extension, outgoing: Outgoing) -> Message:
    message = new_message(
        world,
        ext,
        "Outbound",
        "Queued",
        outgoing.from_number,
        outgoing.to_numbers,
        outgoing.text,
        outgoing.uploads,
    )
    message.read_status = "Read"
    world.mailbox.add_outbound(message)
    return message


async def _send(call: Call, mms: bool) -> ApiResponse:
    world, ext = call.world, call.world.extension(call.extension_id)
    check_caller(call.caller.extension_id, ext)
    message = store_outgoing(world, ext, read_outgoing(world, ext, call.request, mms))
    notify.changed(world, message, new=True)
    notify.deliver_later(world, message, lambda: deliver_internally(world, message))
    return json_response(message_json(world, message))


def deliver_internally(world: World, message: Message) -> None:
    """A text to a number of the account arrives there as an inbound message, as on the platform."""
    if not any(world.mailbox.owner(number) for number in message.to_numbers):
        return
    uploads = tuple(
        Upload(a.content_type, a.content, a.file_name) for a in message.attachments if a.type != "Text"
    )
    inject(world, Inbound(message.from_number, tuple(message.to_numbers), message.text, None, uploads))


@routes.post(EXTENSION + "/sms", group="Medium")
async def send_sms(call: Call) -> ApiResponse:
    return await _send(call, mms=False)


@routes.post(EXTENSION + "/mms", group="Medium")
async def send_mms(call: Call) -> ApiResponse:
    return await _send(call, mms=True)


# reading
@routes.get(STORE, group="Light")
async def list_messages(call: Call) -> ApiResponse:
    world, request = call.world, call.request
    page = Page.of(request, STORE_PAGE)
    match = filters.matcher(world, request)
    found = [m for m in world.mailbox.of_extension(call.extension_id) if match(m)]
    if request.arg("distinctConversations") == "true":
        found = filters.latest_per_conversation(found)
    path = f"{world.account_path(call.extension_id)}/message-store"
    return json_response(page.render(world, path, request, found, lambda m: message_json(world, m)))


def find_message(call: Call) -> Message:
    raw = call.params["messageId"]
    message = call.world.messages.get(int(raw)) if is_ascii_int(raw) else None
    if message is None or message.extension_id != call.extension_id:
        raise not_found("messageId", raw)
    return message


@routes.get(STORE + "/{messageId}", group="Light")
async def read_message(call: Call) -> ApiResponse:
    body = message_json(call.world, find_message(call))
    # The spec's GetSingleMessageInfoResponse requires a non-empty vmSideRecipients (meant for
    # voicemail); the recipients list is the closest truthful value for a text message.
    body["vmSideRecipients"] = body["to"]
    return json_response(body)


@routes.put(STORE + "/{messageId}", group="Medium")
async def update_message(call: Call) -> ApiResponse:
    message = find_message(call)
    body = call.request.json()
    status = body.get("readStatus") if isinstance(body, dict) else None
    if status is None:
        raise mandatory("readStatus")
    if status not in filters.READ_STATUSES:
        raise invalid_parameter("readStatus", str(status))
    if message.read_status != status:
        message.read_status = status
        call.world.mailbox.touch(message)
        notify.changed(call.world, message, new=False)
    return json_response(message_json(call.world, message))


@routes.delete(STORE + "/{messageId}", group="Medium")
async def delete_message(call: Call) -> ApiResponse:
    message = find_message(call)
    message.availability = "Purged" if call.request.arg("purge") == "true" else "Deleted"
    call.world.mailbox.touch(message)
    notify.changed(call.world, message, new=False)
    return empty_response(204)


@routes.get(STORE + "/{messageId}/content/{attachmentId}", group="Medium", media=True)
async def read_content(call: Call) -> ApiResponse:
    message = find_message(call)
    raw = call.params["attachmentId"]
    attachment = next((a for a in message.attachments if str(a.id) == raw), None)
    if attachment is None or message.availability == "Purged":
        raise not_found("attachmentId", raw)
    headers = {}
    disposition = call.request.arg("contentDisposition")
    if disposition is not None:
        if disposition not in ("Inline", "Attachment"):
            raise invalid_parameter("contentDisposition", disposition)
        name = call.request.arg("contentDispositionFilename") or attachment.file_name or str(attachment.id)
        headers["Content-Disposition"] = f'{disposition.lower()}; filename="{name}"'
    kind = attachment.content_type
    if kind.startswith("text/") and "charset" not in kind:
        kind += ";charset=UTF-8"
    return ApiResponse(200, attachment.content, kind, headers)
