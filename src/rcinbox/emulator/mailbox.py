"""The message store's indexes: everything the messaging API looks up on its hot paths, so no
request scans all messages.

One :class:`Mailbox` per world (``world.mailbox``): message ids per extension in creation order, a
change log per extension (what message-sync's ISync returns), conversation ids, the owner of each
phone number, each extension's contacts by phone number, the outbound log behind
``GET /_emulator/outbound`` with its change signal (:attr:`Mailbox.outbound_changed`, which tests
and the demo wait on), the asyncio tasks that move sent messages along, and the opt-outs: like the
platform, an inbound STOP (UNSUBSCRIBE, QUIT, CANCEL, END) blocks texts from that number to the
sender, which then fail with ``SendingFailed`` / ``SMS-RC-413``, until START (SUBSCRIBE, RESUME,
CONTINUE, UNSTOP).
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from rcinbox.emulator.changes import Changes
from rcinbox.emulator.model import Contact, Extension, Message

CONVERSATION_BASE = 6_288_356_833_283_647_000  # conversation ids look like the platform's (int64)
# RingCentral's opt-out handling, per pair of numbers (DOCS messaging/sms/high-volume/opt-out)
OPT_OUT = frozenset({"STOP", "UNSUBSCRIBE", "QUIT", "CANCEL", "END"})
OPT_IN = frozenset({"START", "SUBSCRIBE", "RESUME", "CONTINUE", "UNSTOP"})

log = logging.getLogger("rcinbox.emulator")


@dataclass
class Mailbox:
    messages: dict[int, Message]  # the world's: every message by id
    extensions: list[Extension]  # the world's
    now: Callable[[], float]  # the world clock
    by_extension: dict[int, list[int]] = field(default_factory=dict)
    changes: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # ext -> [(seq, message id)]
    conversations: dict[tuple[int, frozenset[str]], int] = field(default_factory=dict)
    outbound: list[Message] = field(default_factory=list)  # every message sent through /sms and /mms
    outbound_changed: Changes = field(default_factory=Changes)  # a send, a status, a delivery error
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    opted_out: set[tuple[str, str]] = field(default_factory=set)  # (account number, who said STOP)
    delivery_errors: dict[int, str] = field(default_factory=dict)  # message id -> deliveryErrorCode
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _last_seq: int = 0
    _owners: dict[str, Extension] | None = None
    _contacts: dict[int, dict[str, Contact]] = field(default_factory=dict)

    # storing
    def add(self, message: Message) -> None:
        self.messages[message.id] = message
        self.by_extension.setdefault(message.extension_id, []).append(message.id)
        self.touch(message, modified=False)

    def add_outbound(self, message: Message) -> None:
        """Store a message sent through ``/sms`` or ``/mms``; it joins the outbound log."""
        self.outbound.append(message)
        self.add(message)

    def touch(self, message: Message, modified: bool = True) -> None:
        """Record a change of ``message`` for message-sync (and bump lastModifiedTime)."""
        if modified:
            message.modified_at = self.now()
        self._last_seq = next(self._seq)
        self.changes.setdefault(message.extension_id, []).append((self._last_seq, message.id))
        if message.direction == "Outbound":
            self.outbound_changed.notify()

    @property
    def sequence(self) -> int:
        """The latest change number: what a sync token remembers."""
        return self._last_seq

    def changed_since(self, extension_id: int, seq: int) -> list[Message]:
        """Messages of an extension changed after change number ``seq``, oldest change first."""
        log = self.changes.get(extension_id, [])
        start = bisect.bisect_right(log, (seq, 1 << 62))
        seen: dict[int, Message] = {}
        for _, message_id in log[start:]:
            seen.pop(message_id, None)
            seen[message_id] = self.messages[message_id]
        return list(seen.values())

    def of_extension(self, extension_id: int) -> list[Message]:
        """An extension's messages, newest first."""
        messages = self.messages
        return [messages[i] for i in reversed(self.by_extension.get(extension_id, []))]

    # lookups
    def owner(self, phone_number: str) -> Extension | None:
        if self._owners is None:
            self._owners = {pn.phone_number: ext for ext in self.extensions for pn in ext.phone_numbers}
        return self._owners.get(phone_number)

    def contact(self, extension: Extension, phone_number: str) -> Contact | None:
        """The extension's live contact having ``phone_number`` in any of its phone fields."""
        index = self._contacts.get(extension.id)
        if index is None:
            index = {}
            for contact in extension.contacts:
                if contact.availability != "Alive":
                    continue
                for number in contact.phones.values():
                    index.setdefault(number, contact)
            self._contacts[extension.id] = index
        return index.get(phone_number)

    def opt(self, inbound_text: str, sender: str, numbers: Sequence[str]) -> None:
        """Carrier keywords: STOP & co. block texts from ``numbers`` to ``sender``; START & co. unblock."""
        word = inbound_text.strip().upper()
        for number in numbers:
            if word in OPT_OUT:
                self.opted_out.add((number, sender))
                log.info(
                    "OPT-OUT %s texted %s to %s: texts to it now fail (SMS-RC-413)", sender, word, number
                )
            elif word in OPT_IN:
                self.opted_out.discard((number, sender))
                log.info("OPT-IN %s texted %s to %s: texts to it are delivered again", sender, word, number)

    def blocked(self, message: Message) -> bool:
        return any((message.from_number, to) in self.opted_out for to in message.to_numbers)

    def contacts_changed(self, extension_id: int) -> None:
        self._contacts.pop(extension_id, None)

    def conversation_id(self, extension_id: int, numbers: frozenset[str]) -> int:
        key = (extension_id, numbers)
        found = self.conversations.get(key)
        if found is None:
            found = CONVERSATION_BASE + 7919 * len(self.conversations)
            self.conversations[key] = found
        return found

    # background work
    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` as a tracked task (kept referenced until done, cancelled by :meth:`close`)."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
