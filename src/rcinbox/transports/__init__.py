"""Transports: thin adapters that turn RingCentral notifications into :class:`InboundMessage`
and hand each one to a :class:`Sink` (the pipeline's ``accept``), WebSocket or WebHook.

Both produce the same event type and call the same entry point; neither runs rules. The
narrow protocols below are all a transport needs from the rest of rcinbox, so tests can
drive a transport with a recording sink against the emulator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from rcinbox.events import InboundMessage
from rcinbox.transports.status import StatusBoard, TransportKind, TransportStatus

if TYPE_CHECKING:
    from rcinbox.wire import Subscription, WsToken

__all__ = [
    "INSTANT_SMS_MARKER",
    "KeyValue",
    "Sink",
    "StatusBoard",
    "SubscriptionApi",
    "TransportKind",
    "TransportStatus",
    "WsTokenSource",
    "instant_message",
    "instant_sms_filters",
]

INSTANT_SMS_MARKER = "/message-store/instant"


class Sink(Protocol):
    """Where transports deliver: persist (deduplicated) and return; only then is the event acked."""

    async def accept(self, message: InboundMessage) -> object: ...


class WsTokenSource(Protocol):
    """``POST /restapi/oauth/wstoken``: the address and token of one connection."""

    async def ws_token(self) -> WsToken: ...


class SubscriptionApi(Protocol):
    """The REST subscription calls the WebHook manager uses (the PlatformClient provides them).
    A missing subscription raises ``rcinbox.errors.NotFound``."""

    async def create_subscription(
        self, filters: Sequence[str], delivery_mode: Mapping[str, Any], expires_in: int | None = None
    ) -> Subscription: ...

    async def renew_subscription(self, sub_id: str) -> Subscription: ...

    async def get_subscription(self, sub_id: str) -> Subscription: ...

    async def delete_subscription(self, sub_id: str) -> None: ...

    async def list_subscriptions(self) -> Sequence[Subscription]: ...


class KeyValue(Protocol):
    """Small durable settings (the store's kv table): survives a restart."""

    async def kv_get(self, key: str) -> str | None: ...

    async def kv_put(self, key: str, value: str) -> None: ...

    async def kv_setdefault(self, key: str, value: str) -> str: ...


def instant_sms_filters(extension_ids: Iterable[str] = ()) -> tuple[str, ...]:
    """The instant-SMS event filter per extension (one subscription may carry several, for a
    super admin); ``~`` (the token's own extension) when none is configured."""
    ids = tuple(dict.fromkeys(str(ext).strip() for ext in extension_ids if str(ext).strip())) or ("~",)
    return tuple(f"/restapi/v1.0/account/~/extension/{ext}/message-store/instant?type=SMS" for ext in ids)


def instant_message(envelope: Mapping[str, Any], transport: TransportKind) -> InboundMessage | None:
    """The text an instant-SMS notification carries, as both transports read it; ``None`` for any
    other event (a renewal reminder, …); ``ValueError`` when it is one but cannot be read."""
    event = envelope.get("event")
    if not isinstance(event, str) or INSTANT_SMS_MARKER not in event:
        return None
    return InboundMessage.from_notification(envelope, transport)
