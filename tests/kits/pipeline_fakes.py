"""Test support for the pipeline tests: notification envelopes (PLATFORM.md §4.2), a fake platform
client at the seam (recording calls), a fake address book and vacation rules."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from rcinbox.emulator.push.notify import instant_event
from rcinbox.emulator.render import instant_body
from rcinbox.emulator.runner import Running
from rcinbox.errors import NotFound, TransportError, error_from_response
from rcinbox.events import InboundMessage
from rcinbox.platform.auth import Credentials
from rcinbox.platform.client import PlatformClient
from rcinbox.platform.retry import Fence
from rcinbox.rules import Facts
from rcinbox.rules.config import Rules, parse_rules
from rcinbox.store import Store, StoredMessage
from rcinbox.wire import DirectoryPage, MessageRecord, PhoneNumber, parse_items

ACCOUNT = "809646016"
EXT = "62264425016"
OWNER = "+16505550100"
CHARLIE = "+14155550100"

_ids = itertools.count(3062991514017)


def envelope(
    *,
    text: str = "Hi there",
    sender: str = CHARLIE,
    sender_name: str | None = None,
    to: tuple[str, ...] = (OWNER,),
    ext: str = EXT,
    message_id: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
    created: str = "2026-11-27T10:00:00.000Z",
) -> dict[str, Any]:
    mid = message_id or str(next(_ids))
    sender_party: dict[str, Any] = {"phoneNumber": sender, "location": "San Francisco, CA"}
    if sender_name:
        sender_party["name"] = sender_name
    return {
        "uuid": f"uuid-{mid}",
        "event": f"/restapi/v1.0/account/{ACCOUNT}/extension/{ext}/message-store/instant?type=SMS",
        "timestamp": created,
        "subscriptionId": "7e4a7486-8df9-4195-8aef-b8d81d3345f6",
        "ownerId": ext,
        "body": {
            "id": mid,
            "to": [{"phoneNumber": n, "target": i == 0} for i, n in enumerate(to)],
            "from": sender_party,
            "type": "SMS",
            "creationTime": created,
            "lastModifiedTime": created,
            "readStatus": "Unread",
            "priority": "Normal",
            "attachments": [{"id": mid, "type": "Text", "contentType": "text/plain"}, *(attachments or [])],
            "direction": "Inbound",
            "availability": "Alive",
            "subject": text,
            "messageStatus": "Received",
            "conversation": {"id": "1638233798595111162"},
            "eventType": "Create",
            "owner": {"extensionId": ext, "extensionType": "User", "name": "Alex Morgan"},
        },
    }


# --- a fake platform client at the seam (what Pipeline/Outbox/AttachmentFetcher call) -------------

MEDIA = "https://media.ringcentral.com"
PLATFORM = "https://platform.ringcentral.com"


async def accepted_mms(store: Store, message_id: str, attachments: list[dict[str, object]]) -> StoredMessage:
    """An MMS announcing ``attachments`` (``MmsAttachment`` entries), accepted by ``store``."""
    msg = InboundMessage.from_notification(
        envelope(message_id=message_id, attachments=attachments),
        "webhook",  # type: ignore[arg-type]
    )
    assert await store.accept(msg)
    stored = await store.find_message(EXT, message_id)
    assert stored is not None
    return stored


def media_uri(ext: str, message_id: str, attachment_id: str) -> str:
    store = f"{MEDIA}/restapi/v1.0/account/{ACCOUNT}/extension/{ext}/message-store"
    return f"{store}/{message_id}/content/{attachment_id}"


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # an attachment's bytes


class FakePlatform:
    """Records every call; serves scripted attachment bytes; keeps an outbound message store."""

    def __init__(self) -> None:
        self.media: dict[str, tuple[int, bytes, str]] = {}  # uri -> (status, bytes, content type)
        self.streamed: list[str] = []
        self.chunked: set[str] = set()
        self.sent: list[dict[str, Any]] = []  # message-store records of sent SMS
        self.send_calls = 0
        self.send_errors: list[BaseException] = []  # raised by the next send_sms calls, in order
        self.lost_responses = 0  # the next n sends reach the platform but the answer is lost
        self.stream_errors: dict[str, list[BaseException]] = {}
        self.numbers: dict[str, list[dict[str, Any]]] = {
            EXT: [
                {"phoneNumber": OWNER, "usageType": "DirectNumber", "features": ["SmsSender"]},
                {"phoneNumber": "+16505550101", "usageType": "DirectNumber", "features": ["SmsSender"]},
                {"phoneNumber": "+16505550000", "usageType": "MainCompanyNumber", "features": []},
            ]
        }
        self.list_calls: list[dict[str, Any]] = []
        self._ids = itertools.count(9000)

    def allowed_download_hosts(self) -> frozenset[str]:
        return frozenset({"platform.ringcentral.com", "media.ringcentral.com"})

    @contextlib.asynccontextmanager
    async def stream(self, uri: str) -> AsyncIterator[httpx.Response]:
        self.streamed.append(uri)
        errors = self.stream_errors.get(uri)
        if errors:
            raise errors.pop(0)
        status, content, kind = self.media.get(uri, (404, b'{"errorCode":"CMN-102"}', "application/json"))
        if status >= 400:
            raise error_from_response(
                httpx.Response(status, content=content, request=httpx.Request("GET", uri))
            )
        if uri in self.chunked:  # no Content-Length: the size is only known while streaming
            yield httpx.Response(status, content=_chunks(content), headers={"Content-Type": kind})
        else:
            yield httpx.Response(status, content=content, headers={"Content-Type": kind})

    async def phone_numbers(self, ext: str = "~") -> tuple[PhoneNumber, ...]:
        return parse_items(PhoneNumber, list(self.numbers.get(ext, [])))

    async def account_numbers(self) -> tuple[PhoneNumber, ...]:
        raise NotFound(404, "CMN-102", "Resource for parameter [path] is not found: /account/~/phone-number")

    async def directory_page(self, page: int) -> DirectoryPage:
        raise NotFound(404, "CMN-102", "Resource for parameter [path] is not found: /directory/entries")

    async def send_sms(
        self, from_number: str, to_number: str, text: str, ext: str = "~", *, fence: Fence | None = None
    ) -> MessageRecord:
        if fence is not None:  # as the real client: right before the request would be written
            await fence()
        self.send_calls += 1
        if self.send_errors:
            raise self.send_errors.pop(0)
        record = self.record_sent(from_number, to_number, text)
        if self.lost_responses:
            self.lost_responses -= 1
            raise TransportError("POST /sms: ReadTimeout: timed out", timeout=True)
        return MessageRecord.model_validate(record)

    def record_sent(self, from_number: str, to_number: str, text: str) -> dict[str, Any]:
        record = {
            "id": next(self._ids),
            "direction": "Outbound",
            "type": "SMS",
            "from": {"phoneNumber": from_number},
            "to": [{"phoneNumber": to_number}],
            "subject": text,
            "creationTime": f"2026-11-27T12:00:{len(self.sent):02d}.000Z",
            "messageStatus": "Queued",
        }
        self.sent.append(record)
        return record

    async def list_messages(self, ext: str = "~", **filters: Any) -> tuple[MessageRecord, ...]:
        self.list_calls.append({"ext": ext, **filters})
        return parse_items(MessageRecord, list(self.sent))


async def _chunks(content: bytes, size: int = 256) -> AsyncIterator[bytes]:
    for start in range(0, len(content), size):
        yield content[start : start + size]


def holds(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    """A plain condition as the async predicate ``Changes.until`` takes."""

    async def check() -> bool:
        return condition()

    return check


def files_under(root: Path) -> list[Path]:
    """Every file below ``root``, relative to it, sorted."""
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


@dataclass(frozen=True)
class FakeContact:
    first_name: str | None
    last_name: str | None = None


class FakeBook:
    def __init__(self, contacts: dict[str, FakeContact] | None = None) -> None:
        self.contacts = contacts if contacts is not None else {CHARLIE: FakeContact("Charlie", "Williams")}
        self.refreshes = 0

    async def refresh_if_older_than(self, seconds: float) -> bool:
        self.refreshes += 1
        return True

    def lookup(self, number: str) -> FakeContact | None:
        return self.contacts.get(number)


VACATION_TOML = """
[vacation]
enabled = true
start = 2020-01-01T00:00:00
end = 2099-01-01T00:00:00
timezone = "UTC"
message = "Hi {first_name}, I'm away. Back soon."
audience = "everyone"
repeat_after = "7d"
"""


def vacation_rules() -> Rules:
    return parse_rules(VACATION_TOML)


def facts_for(msg: InboundMessage, now: datetime, **changes: Any) -> Facts:
    """What the pipeline would gather about ``msg`` from a quiet history: the sender a contact
    (no name), never answered, not opted out; the message's own age and first-start mark; each of
    ``changes`` overrides a field."""
    base = Facts(
        message=msg,
        now=now,
        owner_numbers=frozenset({OWNER}),
        company_numbers=frozenset(),
        contact_name=None,
        is_contact=True,
        opted_out=False,
        replied_to_message=False,
        automated_count_24h=0,
        age=msg.age,
        before_first_start=msg.before_first_start,
    )
    return replace(base, **changes)


# --- the real client against the real emulator ------------------------------------------------------


@contextlib.asynccontextmanager
async def emulator_client(emu: Running, token_dir: Path, ext_index: int = 0) -> AsyncIterator[PlatformClient]:
    world = emu.world
    credentials = Credentials(
        emu.url, world.app.client_id, world.app.client_secret, world.extensions[ext_index].jwt
    )
    async with PlatformClient.open(credentials, token_file=token_dir / "tokens.json", upkeep=False) as client:
        yield client


def emulator_envelope(emu: Running, message_id: str) -> dict[str, Any]:
    """The instant-SMS notification the emulator publishes for a stored message (its own builder)."""
    world = emu.world
    message = world.messages[int(message_id)]
    return {
        "uuid": f"uuid-{message_id}",
        "event": instant_event(world, message.extension_id),
        "timestamp": "2026-11-27T12:00:00.000Z",
        "subscriptionId": "test-subscription",
        "ownerId": str(message.extension_id),
        "body": instant_body(world, message),
    }
