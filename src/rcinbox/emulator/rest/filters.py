"""Message filters shared by the message-store list and message-sync: query parsing and matching.

Array parameters repeat their key (``direction=Inbound&direction=Outbound``); unknown enum values,
bad dates and bad phone numbers are 400 CMN-101 naming the parameter. Without ``dateFrom`` the
frame starts 24 hours before ``dateTo`` (the spec's default), which defaults to now.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rcinbox.emulator import phones
from rcinbox.emulator.model import Message
from rcinbox.emulator.wire import ApiRequest, invalid_parameter
from rcinbox.emulator.world import World

DAY = 86400.0
DIRECTIONS = ("Inbound", "Outbound")
MESSAGE_TYPES = ("Fax", "SMS", "VoiceMail", "Pager", "Text")
READ_STATUSES = ("Read", "Unread")
AVAILABILITIES = ("Alive", "Deleted", "Purged")


def parse_time(request: ApiRequest, name: str) -> float | None:
    raw = request.arg(name)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError:
        raise invalid_parameter(name, raw) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def enum_args(request: ApiRequest, name: str, allowed: tuple[str, ...]) -> set[str]:
    values = set(request.args(name))
    for value in values:
        if value not in allowed:
            raise invalid_parameter(name, value)
    return values


def time_frame(world: World, request: ApiRequest) -> tuple[float, float]:
    date_to = parse_time(request, "dateTo") or world.now()
    date_from = parse_time(request, "dateFrom")
    return (date_to - DAY if date_from is None else date_from), date_to


def latest_per_conversation(messages: list[Message]) -> list[Message]:
    seen: set[int] = set()
    latest = []
    for message in messages:  # newest first
        if message.conversation_id not in seen:
            seen.add(message.conversation_id)
            latest.append(message)
    return latest


def matcher(world: World, request: ApiRequest, incremental: bool = False) -> Callable[[Message], bool]:
    """The message filter of a list or FSync request; for ISync only the type/direction filters."""
    date_from, date_to = (float("-inf"), float("inf")) if incremental else time_frame(world, request)
    directions = enum_args(request, "direction", DIRECTIONS)
    types = enum_args(request, "messageType", MESSAGE_TYPES)
    read = enum_args(request, "readStatus", READ_STATUSES)
    available = enum_args(request, "availability", AVAILABILITIES) or {"Alive"}
    if incremental:
        available = set(AVAILABILITIES)
    conversation = request.arg("conversationId")
    number = None
    if request.arg("phoneNumber"):
        number = phones.e164(request.arg("phoneNumber") or "")
        if number is None:
            raise invalid_parameter("phoneNumber", request.arg("phoneNumber"))

    def match(m: Message) -> bool:
        return (
            date_from <= m.created_at <= date_to
            and m.availability in available
            and (not directions or m.direction in directions)
            and (not types or m.type in types)
            and (not read or m.read_status in read)
            and (conversation is None or str(m.conversation_id) == conversation)
            and (number is None or number == m.from_number or number in m.to_numbers)
        )

    return match
