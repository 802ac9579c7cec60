"""A new message as the platform stores it, sent or received: its id, its attachments (the text
first, with the message's own id, then the files with theirs) and its conversation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rcinbox.emulator.model import Attachment, Direction, Extension, Message, MessageStatus
from rcinbox.emulator.world import World


@dataclass(frozen=True)
class Upload:
    """One attachment file as it arrived."""

    content_type: str
    content: bytes
    file_name: str | None = None


def attachments_of(world: World, message_id: int, text: str, uploads: Sequence[Upload]) -> list[Attachment]:
    """A new message's attachments: its text (with the message's id, as on the platform), then the files."""
    text_part = [Attachment(message_id, "Text", "text/plain", text.encode())] if text else []
    return text_part + [
        Attachment(world.next_id(), "MmsAttachment", up.content_type, up.content, up.file_name)
        for up in uploads
    ]


def new_message(
    world: World,
    ext: Extension,
    direction: Direction,
    status: MessageStatus,
    from_number: str,
    to_numbers: Sequence[str],
    text: str,
    uploads: Sequence[Upload],
) -> Message:
    """``ext``'s copy of a message, not yet stored; its conversation is the set of its numbers."""
    now = world.now()
    message_id = world.next_id()
    return Message(
        id=message_id,
        extension_id=ext.id,
        direction=direction,
        from_number=from_number,
        from_name=None,
        to_numbers=list(to_numbers),
        text=text,
        attachments=attachments_of(world, message_id, text, uploads),
        conversation_id=world.mailbox.conversation_id(ext.id, frozenset((from_number, *to_numbers))),
        created_at=now,
        modified_at=now,
        status=status,
    )
