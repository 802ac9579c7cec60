"""The emulated account's data: plain mutable records owned by :class:`~rcinbox.emulator.world.World`.

Ids are ints here (REST renders them as int64 numbers, notifications as strings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SubscriptionStatus = Literal["Active", "Blacklisted"]
TransportType = Literal["WebHook", "WebSocket"]
Direction = Literal["Inbound", "Outbound"]
MessageStatus = Literal["Queued", "Sent", "Delivered", "DeliveryFailed", "SendingFailed", "Received"]


@dataclass
class App:
    client_id: str
    client_secret: str
    name: str = "rcinbox emulator app"
    scopes: tuple[str, ...] = (
        "ReadAccounts",
        "ReadContacts",
        "ReadMessages",
        "SMS",
        "EditMessages",
        "SubscriptionWebhook",
        "WebSocketsSubscriptions",
    )


@dataclass
class PhoneNumber:
    id: int
    phone_number: str  # E.164
    features: list[str] = field(default_factory=lambda: ["CallerId", "SmsSender", "MmsSender"])
    usage_type: str = "DirectNumber"
    payment_type: str = "Local"
    type: str = "VoiceFax"
    label: str | None = None
    primary: bool = False


@dataclass
class Contact:
    id: int
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    email: str | None = None
    phones: dict[str, str] = field(default_factory=dict)  # field name (mobilePhone, ...) -> E.164
    availability: Literal["Alive", "Deleted", "Purged"] = "Alive"
    modified_at: float = 0.0  # world clock, for address-book-sync


@dataclass
class Extension:
    id: int
    extension_number: str
    name: str
    jwt: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    super_admin: bool = False
    phone_numbers: list[PhoneNumber] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    type: str = "User"
    status: str = "Enabled"


@dataclass
class Attachment:
    id: int
    type: str  # Text | MmsAttachment
    content_type: str
    content: bytes
    file_name: str | None = None


@dataclass
class Message:
    id: int
    extension_id: int
    direction: Direction
    from_number: str
    from_name: str | None
    to_numbers: list[str]
    text: str
    attachments: list[Attachment]
    conversation_id: int
    created_at: float
    modified_at: float
    status: MessageStatus
    read_status: Literal["Read", "Unread"] = "Unread"
    availability: Literal["Alive", "Deleted", "Purged"] = "Alive"
    type: str = "SMS"
    delivered_at: float | None = None
    target_number: str | None = None  # inbound: the owner's number it was sent to


@dataclass
class Session:
    """One OAuth session (a JWT login): the unit RingCentral limits to ~5 per user and app."""

    id: str
    extension_id: int
    account_id: int
    client_id: str
    access_token: str
    access_expires_at: float
    refresh_token: str
    refresh_expires_at: float
    created_at: float
    endpoint_id: str
    scopes: tuple[str, ...]
    previous_refresh_token: str | None = None  # the single grace-window predecessor
    previous_refresh_until: float = 0.0
    revoked: bool = False
    revoked_at: float = 0.0

    def ended_at(self) -> float:
        """When the session stopped being usable: revoked, or its refresh token expired."""
        return self.revoked_at if self.revoked else self.refresh_expires_at


@dataclass
class Subscription:
    id: str
    session_id: str
    extension_id: int
    event_filters: list[str]  # expanded: no '~' left
    transport: TransportType
    created_at: float
    expires_at: float
    address: str | None = None
    verification_token: str | None = None
    status: SubscriptionStatus = "Active"
    blacklisted_at: float | None = None
    blacklist_reason: str | None = None
    failures_since: float | None = None  # first failure of the current failing streak (webhooks)
    ws_session_id: str | None = None  # WebSocket subscriptions: the gateway session owning it


@dataclass
class WsToken:
    """A WebSocket access token from ``POST /restapi/oauth/wstoken``: opens gateway connections
    until ``expires_at`` (reusable, as RingCentral's own JS clients reuse it), or its session ends."""

    token: str
    session_id: str
    expires_at: float
