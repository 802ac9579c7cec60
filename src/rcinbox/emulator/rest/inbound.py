"""Inbound SMS/MMS injection: what happens when someone texts the account's numbers.

:func:`inject` stores one message per extension owning a ``to`` number (each with its own id,
``to[].target`` true for that extension's numbers), names the sender (``fromName`` if given, else
the extension's contact having that number, as the platform does), keeps MMS attachments with
their bytes, and for each owner fires the instant event and the message-store event. It is the
hot path of the emulator's benchmark (≥ 1,000 messages/s): lookups are indexed, nothing scans.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from rcinbox.emulator.model import Extension, Message
from rcinbox.emulator.push import notify
from rcinbox.emulator.render import contact_name
from rcinbox.emulator.rest.compose import Upload, new_message
from rcinbox.emulator.world import World

log = logging.getLogger("rcinbox.emulator")


@dataclass(frozen=True)
class Inbound:
    from_number: str
    to_numbers: tuple[str, ...]
    text: str
    from_name: str | None = None
    uploads: tuple[Upload, ...] = ()


class NoRecipient(LookupError):
    """No ``to`` number belongs to an extension of the account."""


def inject(world: World, inbound: Inbound) -> tuple[str, int]:
    """Store and announce an inbound message; ``(first message id, subscriptions notified)``."""
    box = world.mailbox
    owners: dict[int, Extension] = {}
    for number in inbound.to_numbers:
        ext = box.owner(number)
        if ext is not None:
            owners.setdefault(ext.id, ext)
    if not owners:
        raise NoRecipient(", ".join(inbound.to_numbers))
    box.opt(inbound.text, inbound.from_number, [n for n in inbound.to_numbers if box.owner(n)])
    first: int | None = None
    notified = 0
    for ext in owners.values():
        message = _message(world, ext, inbound)
        box.add(message)
        first = first or message.id
        notified += notify.inbound_arrived(world, message)
    log.info(
        "INBOUND %s -> %s: message %s for %d extension(s), %d notification(s)",
        inbound.from_number,
        ",".join(inbound.to_numbers),
        first,
        len(owners),
        notified,
    )
    return str(first), notified


def _message(world: World, ext: Extension, inbound: Inbound) -> Message:
    message = new_message(
        world,
        ext,
        "Inbound",
        "Received",
        inbound.from_number,
        inbound.to_numbers,
        inbound.text,
        inbound.uploads,
    )
    message.from_name = inbound.from_name
    if message.from_name is None:
        contact = world.mailbox.contact(ext, inbound.from_number)
        message.from_name = (contact_name(contact) or None) if contact else None
    own = {pn.phone_number for pn in ext.phone_numbers}
    message.target_number = next(n for n in inbound.to_numbers if n in own)
    return message
