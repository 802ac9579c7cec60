"""WebHook transport of the emulator: the create-time validation handshake, notification
delivery, and blacklisting after sustained failures (PLATFORM §2.4, §2.5).

One :class:`Webhooks` per emulator owns one ``httpx.AsyncClient`` (closed on app shutdown); its
:meth:`~Webhooks.deliver` is ``world.deliverers["WebHook"]``. Deliveries run in one lane (task) per
subscription, so each subscription receives its notifications in publish order; every task is
tracked and cancelled on shutdown, never fire-and-forget.

Failure model: a non-2xx answer, a timeout or a refused connection starts a failure streak
(``Subscription.failures_since``); a 2xx ends it. A failure at least
``limits.blacklist_after`` seconds (world clock) after the streak began blacklists the
subscription: ``status = "Blacklisted"``, ``blacklistedData {blacklistedAt, reason}``, and no
further deliveries. There are no retries (the platform documents none).

Every delivery attempt is recorded (:attr:`Webhooks.deliveries`, the latest ``KEPT``: the
notification, the receiver's status and the failure reason) and signalled (:attr:`Webhooks.delivered`),
so an in-process observer (a test) waits on what the receiver answered instead of watching it.

It also runs the renewal-reminder job (:func:`rcinbox.emulator.push.events.remind`) every
``REMINDER_TICK`` seconds, started by the first subscription that asks for reminders.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import orjson

from rcinbox.emulator.changes import Changes
from rcinbox.emulator.push import events
from rcinbox.emulator.wire import ApiError, invalid_parameter

if TYPE_CHECKING:
    from rcinbox.emulator.model import Subscription
    from rcinbox.emulator.world import World

log = logging.getLogger("rcinbox.emulator")

USER_AGENT = "RingCentral-Webhook/8.3"
TIMEOUT_REASON = "I/O operation is failed. Details: [Read timed out]"
REFUSED_REASON = "I/O operation is failed. Details: [Connection refused]"
REMINDER_TICK = 1.0  # seconds between passes of the renewal-reminder job
KEPT = 1000  # delivery records kept (the latest)


@dataclass(frozen=True)
class Delivery:
    """One delivery attempt: the notification, the receiver's HTTP status (``None`` when it gave
    none: a timeout, a refused connection) and the failure (``None``: a 2xx)."""

    subscription_id: str
    envelope: dict[str, Any]
    status: int | None
    failure: str | None


def status_reason(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    return f"Webhook responses with code: [{status}], reason: [{phrase}]"


def check_address(address: object) -> str:
    """``deliveryMode.address`` must be an absolute http(s) URL (CMN-101 otherwise)."""
    if not isinstance(address, str):
        raise invalid_parameter("deliveryMode.address", str(address))
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid_parameter("deliveryMode.address", address)
    return address


def loggable(address: str) -> str:
    """The address without credentials or query (webhook URLs often carry a secret there)."""
    parts = urlsplit(address)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


def blacklist(world: World, subscription: Subscription, reason: str) -> None:
    """Mark a subscription Blacklisted (also used by the faults control API)."""
    if subscription.status == "Blacklisted":
        return
    subscription.status = "Blacklisted"
    subscription.blacklisted_at = world.now()
    subscription.blacklist_reason = reason
    log.info("WEBHOOK subscription %s blacklisted: %s", subscription.id, reason)


def response_size(response: httpx.Response, body_size: int) -> int:
    """Bytes of status line + headers + body, as the receiver sent them over HTTP/1.1."""
    status_line = len(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n")
    headers = sum(len(name) + len(value) + 4 for name, value in response.headers.raw)
    return status_line + headers + 2 + body_size


class Webhooks:
    """The WebHook transport: handshake at create time, ordered delivery, blacklisting."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.client = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        self.lanes: dict[str, deque[dict[str, Any]]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.reminded: dict[str, float] = {}  # subscription id -> world time of the last reminder
        self.deliveries: deque[Delivery] = deque(maxlen=KEPT)  # every attempt, oldest first
        self.delivered = Changes()  # notified after every attempt
        self._reminders: asyncio.Task[None] | None = None

    async def validate(self, address: str) -> None:
        """The ``Validation-Token`` handshake; raises SUB-520 / SUB-525 / CMN-101 on failure."""
        limits = self.world.limits
        token = self.world.new_token("")
        headers = {"Validation-Token": token, "User-Agent": USER_AGENT, "Content-Type": "application/json"}
        try:
            async with asyncio.timeout(limits.validation_timeout):
                response, size = await self._exchange(address, headers, limits.validation_max_bytes)
        except (TimeoutError, httpx.HTTPError, httpx.InvalidURL) as exc:
            log.info("WEBHOOK validation of %s failed: %s", loggable(address), type(exc).__name__)
            raise invalid_parameter("deliveryMode.address", address) from None
        if size > limits.validation_max_bytes or response.status_code != 200:
            log.info(
                "WEBHOOK validation of %s: status %d, %d bytes", loggable(address), response.status_code, size
            )
            raise ApiError(400, "SUB-525", "WebHook server response is invalid")
        if response.headers.get("Validation-Token") != token:
            log.info("WEBHOOK validation of %s: token not echoed", loggable(address))
            raise ApiError(400, "SUB-520", "Validation Token is not returned")
        log.info("WEBHOOK validation of %s passed", loggable(address))

    async def _exchange(self, address: str, headers: dict[str, str], cap: int) -> tuple[httpx.Response, int]:
        async with self.client.stream("POST", address, headers=headers, content=b"") as response:
            size = response_size(response, 0)
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if size > cap:
                    break
            return response, size

    # delivery
    def deliver(self, subscription: Subscription, envelope: dict[str, Any]) -> None:
        """Queue one notification on the subscription's lane (never blocks)."""
        lane = self.lanes.get(subscription.id)
        if lane is not None:
            lane.append(envelope)
            return
        self.lanes[subscription.id] = deque([envelope])
        task = asyncio.get_running_loop().create_task(
            self._run_lane(subscription), name=f"webhook:{subscription.id}"
        )
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run_lane(self, subscription: Subscription) -> None:
        lane = self.lanes[subscription.id]
        try:
            while lane:
                envelope = lane.popleft()
                delay = self.world.webhook_delay + self.world.limits.latency_ms / 1000
                if delay > 0:
                    await asyncio.sleep(delay)
                if subscription.status != "Active" or subscription.id not in self.world.subscriptions:
                    log.info(
                        "WEBHOOK sub %s is %s: %d queued notification(s) dropped",
                        subscription.id,
                        subscription.status if subscription.id in self.world.subscriptions else "gone",
                        len(lane) + 1,
                    )
                    lane.clear()
                    break
                await self._post(subscription, envelope)
        finally:
            self.lanes.pop(subscription.id, None)

    async def _post(self, subscription: Subscription, envelope: dict[str, Any]) -> None:
        assert subscription.address is not None
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "Accept": "application/json",
            "Accept-Encoding": "UTF-8",
            "User-Agent": USER_AGENT,
        }
        if subscription.verification_token:
            headers["Verification-Token"] = subscription.verification_token
        reason: str | None = None
        code: int | None = None
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.world.limits.validation_timeout):
                response = await self.client.post(
                    subscription.address, headers=headers, content=orjson.dumps(envelope)
                )
            code = response.status_code
            if not 200 <= response.status_code < 300:
                reason = status_reason(response.status_code)
        except (TimeoutError, httpx.TimeoutException):
            reason = TIMEOUT_REASON
        except (httpx.HTTPError, httpx.InvalidURL):
            reason = REFUSED_REASON
        log.info(
            "WEBHOOK POST %s sub %s event %s -> %s %s (%.1f ms)",
            loggable(subscription.address),
            subscription.id,
            envelope["uuid"],
            "-" if code is None else code,
            reason or "ok",
            (time.perf_counter() - started) * 1000,
        )
        self._record(subscription, reason)
        self.deliveries.append(Delivery(subscription.id, envelope, code, reason))
        self.delivered.notify()

    def _record(self, subscription: Subscription, failure: str | None) -> None:
        now = self.world.now()
        if failure is None:
            subscription.failures_since = None
            return
        if subscription.failures_since is None:
            subscription.failures_since = now
        if now - subscription.failures_since >= self.world.limits.blacklist_after:
            blacklist(self.world, subscription, failure)

    # renewal reminders
    def start_reminders(self) -> None:
        if self._reminders is None or self._reminders.done():
            self._reminders = asyncio.get_running_loop().create_task(self._remind_loop(), name="reminders")

    async def _remind_loop(self) -> None:
        while True:
            events.remind(self.world, self.reminded)
            await asyncio.sleep(REMINDER_TICK)

    async def idle(self) -> None:
        """Wait until every queued delivery has been attempted (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def aclose(self) -> None:
        running = [*self.tasks, *([self._reminders] if self._reminders else [])]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        self.lanes.clear()
        await self.client.aclose()
