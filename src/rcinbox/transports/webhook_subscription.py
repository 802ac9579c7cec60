"""The WebHook subscription, kept alive: created once, renewed before it expires, re-created
when it is gone (404) or ``Blacklisted``.

Choices (the README should repeat them for operators):

* ``expiresIn`` = 7 days (the platform's default), renewed once less than a third of that
  remains: a renewal is also a cheap proof that the platform still knows us. Its status is read
  every ``check_interval`` (1 min: ``GET /subscription/{id}``, one request of the Light group's 50
  a minute), because blacklisting is only visible that way and RingCentral delivers nothing to a
  ``Blacklisted`` subscription: noticed within a minute, it is deleted and created again, and the
  new subscription triggers the message-sync catch-up that fetches what came meanwhile.
* One verification token per installation, generated once (``secrets.token_urlsafe``) and stored
  in the store's kv table *before* any subscription uses it, so a restart (or a crash between
  create and persist) keeps verifying. The subscription id is stored too.
* At startup, an Active subscription with our address and our filters is reused (renewed if
  needed) rather than duplicated; every other subscription with our address is deleted. Without
  a stored token none of them can be verified, so they are all deleted and one is created.
  Replicas: only the leader runs this; each new term re-reads the subscription id the store
  names (the previous leader's), so a new leader adopts and renews it instead of replacing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rcinbox.backoff import Backoff
from rcinbox.clock import SYSTEM, Clock
from rcinbox.errors import NotFound
from rcinbox.transports import KeyValue, SubscriptionApi
from rcinbox.transports.status import StatusBoard
from rcinbox.transports.websocket import retry_after
from rcinbox.wire import Subscription

log = logging.getLogger("rcinbox.transport")

TOKEN_KEY = "webhook.verification_token"
SUBSCRIPTION_KEY = "webhook.subscription_id"
REPAIR = Backoff(base_delay=2.0, max_delay=300.0, jitter=0.2)  # between failed keep-alive rounds


@dataclass(frozen=True)
class WebhookPolicy:
    expires_in: int = 7 * 24 * 3600
    renew_fraction: float = 1 / 3  # renew once less than this part of expires_in remains
    check_interval: float = 60.0  # read the subscription's status this often (one Light request)
    retry: Backoff = REPAIR

    def __post_init__(self) -> None:
        if self.expires_in < 1 or not 0 < self.renew_fraction < 1 or self.check_interval <= 0:
            raise ValueError(f"invalid webhook policy: {self}")

    @property
    def renew_margin(self) -> float:
        return self.expires_in * self.renew_fraction


def seconds_left(info: Subscription, now: datetime) -> float:
    """Seconds until ``expirationTime`` (0 if unreadable: renew now)."""
    if info.expiration_time is None:
        return 0.0
    return (info.expiration_time - now).total_seconds()


class WebhookSubscription:
    """Owns our one WebHook subscription; ``tokens()`` feeds the endpoint's verification."""

    def __init__(
        self,
        api: SubscriptionApi,
        kv: KeyValue,
        address: str,
        event_filters: Sequence[str],
        *,
        policy: WebhookPolicy | None = None,
        board: StatusBoard | None = None,
        clock: Clock = SYSTEM,
    ) -> None:
        self._api = api
        self._kv = kv
        self.address = address
        self._filters = list(event_filters)
        self.policy = policy or WebhookPolicy()
        self.board = board or StatusBoard("webhook")
        self._token: str | None = None
        self._sub_id: str | None = None
        self._adopted = False  # startup reconciliation done
        self._trust_existing = False  # existing subscriptions use our (stored) token
        self._untrusted: str | None = None  # the id stored beside a token we had to create anew
        self._wake = asyncio.Event()
        self._clock = clock  # subscription expiry times are compared with it

    def tokens(self) -> tuple[str, ...]:
        return (self._token,) if self._token else ()

    async def load(self) -> None:
        """Read (or create and persist) the verification token; call before serving the endpoint."""
        mine = secrets.token_urlsafe(32)
        self._token = await self._kv.kv_setdefault(TOKEN_KEY, mine)  # replicas: the first one's
        self._sub_id = await self._kv.kv_get(SUBSCRIPTION_KEY) or None
        self._trust_existing = self._token != mine
        if not self._trust_existing:
            self._untrusted, self._sub_id = self._sub_id, None  # created with an unknown token

    def check_now(self) -> None:
        """Re-read the subscription at once (e.g. after a renewal reminder)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the subscription until ``stop`` (one leader's term: each term adopts afresh what
        the replica that led before it left)."""
        if self._token is None:
            await self.load()
        self._adopted = False
        failures = 0
        while not stop.is_set():
            try:
                info = await self.ensure()
                failures, wait = 0, self._next_wake(info)
            except Exception as exc:  # the top of the keep-alive loop: log, back off, retry
                failures += 1
                wait = max(retry_after(exc), self.policy.retry.delay(failures))
                log.warning("webhook subscription: %s; retry in %.1f s", exc, wait)
                self.board.update(connected=False, subscription_active=False, reason=str(exc)[:200])
            self._wake.clear()
            await self._clock.wait(stop, self._wake, at_most=wait)

    def _next_wake(self, info: Subscription) -> float:
        until_renewal = seconds_left(info, self._clock.now()) - self.policy.renew_margin
        return max(0.05, min(self.policy.check_interval, until_renewal))

    async def ensure(self) -> Subscription:
        """Make sure one Active, unexpired subscription exists; return its info."""
        if not self._adopted:
            await self._adopt()
        info = await self._current()
        if info is None:
            info = await self._create()
        elif seconds_left(info, self._clock.now()) <= self.policy.renew_margin:
            info = await self._renew(info)
        self.board.update(
            connected=True,
            subscription_active=True,
            subscription_id=info.id,
            subscription_expires_at=info.expiration_time,
            reason="",
        )
        return info

    async def _adopt(self) -> None:
        """Startup (and each term of a leader): keep our known (or one matching) Active
        subscription, delete stale ones. The known one is the one the store names now: replicas
        share it, and another replica may have created it after this one started."""
        stored = await self._kv.kv_get(SUBSCRIPTION_KEY) or None
        if stored is not None and stored != self._untrusted:
            self._sub_id = stored
        ours = [r for r in await self._api.list_subscriptions() if self._is_ours(r)]
        keep = next((r for r in ours if r.id == self._sub_id and self._usable(r)), None)
        if self._trust_existing:
            keep = keep or next((r for r in ours if self._usable(r)), None)
        for record in ours:
            if record is not keep:
                await self._delete(record.id, "stale")
        self._sub_id = keep.id if keep else None
        if keep is not None:
            await self._kv.kv_put(SUBSCRIPTION_KEY, self._sub_id or "")
            log.info("reusing webhook subscription %s", self._sub_id)
        self._adopted = True

    def _is_ours(self, record: Subscription) -> bool:
        return record.address == self.address

    def _usable(self, record: Subscription) -> bool:
        same = same_filters(self._filters, record.event_filters)
        return record.status == "Active" and same and seconds_left(record, self._clock.now()) > 0

    async def _current(self) -> Subscription | None:
        if self._sub_id is None:
            return None
        try:
            info = await self._api.get_subscription(self._sub_id)
        except NotFound:
            log.warning("webhook subscription %s is gone; re-creating it", self._sub_id)
            return None
        if info.status != "Active":
            reason = info.blacklisted_reason
            log.warning("webhook subscription %s is %s (%s)", self._sub_id, info.status, reason)
            await self._delete(self._sub_id, str(info.status))
            return None
        return info

    async def _create(self) -> Subscription:
        assert self._token is not None
        mode = {"transportType": "WebHook", "address": self.address, "verificationToken": self._token}
        info = await self._api.create_subscription(self._filters, mode, self.policy.expires_in)
        self._sub_id = info.id
        await self._kv.kv_put(SUBSCRIPTION_KEY, self._sub_id)
        log.info("created webhook subscription %s", self._sub_id, extra={"action": "webhook.subscribe"})
        self.board.update(subscriptions_created=self.board.status.subscriptions_created + 1)
        return info

    async def _renew(self, info: Subscription) -> Subscription:
        try:
            renewed = await self._api.renew_subscription(info.id)
        except NotFound:
            return await self._create()
        log.info("renewed webhook subscription %s", renewed.id, extra={"action": "webhook.renew"})
        self.board.update(renewals=self.board.status.renewals + 1)
        return renewed

    async def _delete(self, sub_id: str, why: str) -> None:
        with contextlib.suppress(NotFound):
            await self._api.delete_subscription(sub_id)
        log.info("deleted %s webhook subscription %s", why, sub_id)


def same_filters(ours: Sequence[str], theirs: Sequence[str] | None) -> bool:
    """Our filters against the platform's echo, where each ``~`` has become a real id."""
    if theirs is None or len(theirs) != len(ours):
        return False
    return all(any(_filter_matches(mine, str(echo)) for echo in theirs) for mine in ours)


def _filter_matches(mine: str, echo: str) -> bool:
    a, b = mine.split("/"), echo.split("/")
    return len(a) == len(b) and all(x == y or x == "~" for x, y in zip(a, b, strict=True))
