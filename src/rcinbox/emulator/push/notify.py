"""Message events and the life of a sent message.

- :func:`inbound_arrived`: the instant event (PLATFORM §4.2) on
  ``/restapi/v1.0/account/{a}/extension/{e}/message-store/instant?type=SMS`` and the message-store
  event (§4.3) on ``…/message-store?type=SMS&direction=Inbound``;
- :func:`changed`: a message-store event for a new or updated message;
- :func:`deliver_later`: Queued → Sent → Delivered in a tracked task, one event per step
  (Queued → SendingFailed with ``deliveryErrorCode`` SMS-RC-413 when a recipient opted out).

Events go out through :func:`rcinbox.emulator.push.events.publish`, which returns how many
subscriptions it notified.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from rcinbox.emulator.model import Message, MessageStatus
from rcinbox.emulator.push import events
from rcinbox.emulator.render import instant_body, store_event_body
from rcinbox.emulator.world import World

SENT_AFTER = 0.05  # seconds from Queued to Sent
DELIVERED_AFTER = 0.1  # seconds from Sent to Delivered
OPTED_OUT = "SMS-RC-413"  # the recipient texted STOP to the sending number

log = logging.getLogger("rcinbox.emulator")


def instant_event(world: World, extension_id: int) -> str:
    return f"{world.account_path(extension_id)}/message-store/instant?type=SMS"


def store_event(world: World, message: Message) -> str:
    path = world.account_path(message.extension_id)
    return f"{path}/message-store?type={message.type}&direction={message.direction}"


def changed(world: World, message: Message, new: bool) -> int:
    body = store_event_body(
        world,
        message.extension_id,
        new=[message.id] if new else (),
        updated=0 if new else 1,
        kind=message.type,
    )
    return events.publish(world, message.extension_id, store_event(world, message), body)


def inbound_arrived(world: World, message: Message) -> int:
    ext_id = message.extension_id
    notified = events.publish(world, ext_id, instant_event(world, ext_id), instant_body(world, message))
    return notified + changed(world, message, new=True)


def deliver_later(world: World, message: Message, on_delivered: Callable[[], object] | None = None) -> None:
    """Queued → Sent → Delivered in a tracked task; ``on_delivered`` runs at delivery."""
    log.info(
        "MESSAGE %d %s (ext %d, %s -> %s)",
        message.id,
        message.status,
        message.extension_id,
        message.from_number,
        ",".join(message.to_numbers),
    )
    world.mailbox.spawn(_progress(world, message, on_delivered), name=f"deliver:{message.id}")


async def _progress(world: World, message: Message, on_delivered: Callable[[], object] | None) -> None:
    box = world.mailbox
    await asyncio.sleep(SENT_AFTER)
    if box.blocked(message):
        box.delivery_errors[message.id] = OPTED_OUT
        _move(world, message, "SendingFailed", f" ({OPTED_OUT}: a recipient opted out)")
        return
    _move(world, message, "Sent")
    await asyncio.sleep(DELIVERED_AFTER)
    message.delivered_at = world.now()
    _move(world, message, "Delivered")
    if on_delivered is not None:
        on_delivered()


def _move(world: World, message: Message, status: MessageStatus, why: str = "") -> None:
    """One step of a sent message: new status, a change for message-sync, an event, a log line."""
    log.info("MESSAGE %d %s -> %s%s", message.id, message.status, status, why)
    message.status = status
    world.mailbox.touch(message)
    changed(world, message, new=False)
