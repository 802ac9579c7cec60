"""Event filters and fan-out: which subscriptions hear an event, and the envelope they get.

``publish(world, extension_id, event, body)`` is the one entry point (the messages module calls
it). ``event`` is the most specific concrete event path, ids and query included, e.g.
``/restapi/v1.0/account/1/extension/2/message-store/instant?type=SMS`` or
``/restapi/v1.0/account/1/extension/2/message-store?type=SMS&direction=Inbound``.

Matching rule (documented in the README's emulator section too): a subscription filter matches
an event when their paths are equal (a trailing ``/`` ignored) **and** every query parameter of
the filter appears in the event with the same value (the filter's query is a subset of the
event's). So ``…/message-store`` hears every message-store event, ``…/message-store?type=SMS&
direction=Outbound`` only outbound SMS changes, and ``…/message-store/instant?type=SMS`` only
itself; ``…/message-store`` never hears ``…/message-store/instant`` (different path).

The envelope's ``event`` is the matching filter, with concrete ids, as the platform echoes it
(PLATFORM §4.1: "the filter with concrete ids"). Only ``Active``, unexpired subscriptions are
notified; delivery is scheduled by ``world.deliverers[transport]`` and never blocks here.

Renewal reminders (PLATFORM §2.6): a subscription with the filter
``/restapi/v1.0/subscription/~?threshold=T&interval=I`` gets ``{"expiresIn": N}`` bodies once
fewer than ``T`` seconds are left, at most every ``I`` seconds; :func:`remind` is one pass of
that job (run periodically by :class:`rcinbox.emulator.push.webhooks.Webhooks`).
"""

from __future__ import annotations

import functools
import logging
import math
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from rcinbox.emulator.world import iso

if TYPE_CHECKING:
    from rcinbox.emulator.model import Subscription
    from rcinbox.emulator.world import World

log = logging.getLogger("rcinbox.emulator")


@dataclass(frozen=True)
class EventPath:
    """A filter or an event split into its path and its query parameters."""

    path: str
    query: frozenset[tuple[str, str]]

    @staticmethod
    @functools.lru_cache(maxsize=4096)  # filters and event paths repeat endlessly: parse each once
    def parse(text: str) -> EventPath:
        path, _, query = text.partition("?")
        if len(path) > 1:
            path = path.rstrip("/")
        return EventPath(path, frozenset(parse_qsl(query, keep_blank_values=True)))

    def covers(self, event: EventPath) -> bool:
        """True when this filter hears ``event``: same path, filter query ⊆ event query."""
        return self.path == event.path and self.query <= event.query


def matching_filter(subscription: Subscription, event: EventPath) -> str | None:
    """The first of the subscription's filters that hears the event, or ``None``."""
    for text in subscription.event_filters:
        if EventPath.parse(text).covers(event):
            return text
    return None


def new_event_uuid() -> str:
    """A notification uuid like the platform's current ones (a long numeric string)."""
    return str(secrets.randbits(62) + 10**18)


def envelope(world: World, subscription: Subscription, event: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": new_event_uuid(),
        "event": event,
        "timestamp": iso(world.now()),
        "subscriptionId": subscription.id,
        "ownerId": str(subscription.extension_id),
        "body": body,
    }


def live(world: World, now: float) -> list[Subscription]:
    """The subscriptions that are notified: Active and not expired."""
    return [s for s in world.subscriptions.values() if s.status == "Active" and s.expires_at > now]


def publish(world: World, extension_id: int, event: str, body: dict[str, Any]) -> int:
    """Schedule ``body`` to every Active, unexpired subscription hearing ``event``; how many."""
    concrete = EventPath.parse(event)
    notified = 0
    for subscription in live(world, world.now()):
        matched = matching_filter(subscription, concrete)
        if matched is None:
            continue
        deliver = world.deliverers.get(subscription.transport)
        if deliver is None:
            log.warning("no deliverer for %s subscription %s", subscription.transport, subscription.id)
            continue
        deliver(subscription, envelope(world, subscription, matched, body))
        notified += 1
    log.info("EVENT ext %d %s -> %d subscription(s)", extension_id, event, notified)
    return notified


def expires_in(world: World, subscription: Subscription) -> int:
    """Whole seconds left, the platform way: 604800 s requested reads back as 604799."""
    return max(1, math.ceil(subscription.expires_at - world.now()) - 1)


def reminder_timing(event_filter: str) -> tuple[float, float] | None:
    """(threshold, interval) of a renewal-reminder filter, or ``None`` for any other filter."""
    parsed = EventPath.parse(event_filter)
    if parsed.path != "/restapi/v1.0/subscription/~":
        return None
    query = dict(parsed.query)
    try:
        return float(query["threshold"]), float(query["interval"])
    except (KeyError, ValueError):
        return None


def remind(world: World, last_sent: dict[str, float]) -> int:
    """One pass of the renewal-reminder job; ``last_sent`` remembers when each was reminded."""
    now = world.now()
    sent = 0
    for subscription in live(world, now):
        for event_filter in subscription.event_filters:
            timing = reminder_timing(event_filter)
            if timing is None or subscription.expires_at - now > timing[0]:
                continue
            previous = last_sent.get(subscription.id)
            deliver = world.deliverers.get(subscription.transport)
            if deliver is None or (previous is not None and now - previous < timing[1]):
                break
            last_sent[subscription.id] = now
            body = {"expiresIn": expires_in(world, subscription)}
            deliver(subscription, envelope(world, subscription, event_filter, body))
            sent += 1
            break
    return sent
