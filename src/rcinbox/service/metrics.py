"""The service's Prometheus metrics (``GET /metrics``; docs/operations.md, "Metrics").

:class:`Metrics` is the :class:`~rcinbox.observe.Observer` every part of one service is handed:
what happens (a text received, a decision, a row of the outbox finished, a wait for RingCentral's
budget, a 429, a session renewal, a catch-up round, a WebHook answer) is counted the moment it
happens, in a :class:`~prometheus_client.CollectorRegistry` of its own (never the library's global
one, so two services or tests in one process do not mix). What is a state rather than an event
(the outbox's depth and the age of its oldest row, the transport's connection and subscription)
is read when ``/metrics`` is scraped: :meth:`Metrics.render` reads the outbox from the store, and
a collector reads the transport's :class:`~rcinbox.transports.status.TransportStatus`.

No label carries a number, a text or a credential: their values are the transports, actions,
reasons, kinds, outcomes, throttling groups and HTTP status codes, each from a small fixed set.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from rcinbox import __version__
from rcinbox.clock import SYSTEM, Clock
from rcinbox.events import SOURCES
from rcinbox.observe import Observer, Outcome, Renewal, RenewalOutcome
from rcinbox.transports.status import TransportStatus

log = logging.getLogger("rcinbox.service")

# The library's one process-wide switch: no ``*_created`` series beside every counter and histogram
# (the time each series appeared; Prometheus would store each as a gauge of its own, for nothing).
disable_created_metrics()  # type: ignore[no-untyped-call]

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # the Prometheus text format generate_latest writes
KINDS = ("reply", "escalation")
# RingCentral answers in well under a second; it gives up after 3 s (the endpoint's budget: 2.5 s).
ANSWER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0)
# A paced request waits from a moment up to a window (60 s) or a 429's penalty (often 60 s).
WAIT_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)

# The outcomes whose series exist from the start (each at 0), so that an alert on their rate works
# before the first one happens: a reply sent, refused by the platform, given up on, unknown.
STARTING_ROWS = (("sent", "sent"), ("failed", "refused"), ("failed", "gave-up"), ("unknown", "gave-up"))

OutboxDepth = Callable[[], Awaitable[dict[str, tuple[int, datetime]]]]  # OutboxQueue.depth
TransportState = Callable[[], TransportStatus]


class Metrics(Observer):
    """Counts what the service's parts tell it; renders the registry at each scrape."""

    def __init__(self, clock: Clock = SYSTEM) -> None:
        self.clock = clock
        self.registry = CollectorRegistry()
        r = self.registry
        Info("rcinbox", "The running rcinbox.", registry=r).info({"version": __version__})
        self.received_counter = Counter(
            "rcinbox_messages_received",
            "Texts archived for the first time, by the transport that brought them (sync: the catch-up).",
            ["transport"],
            registry=r,
        )
        self.duplicates = Counter(
            "rcinbox_messages_duplicate",
            "Deliveries of texts already archived (redeliveries; a text seen by a transport and a sync).",
            ["transport"],
            registry=r,
        )
        self.decisions = Counter(
            "rcinbox_decisions", "Texts decided, by action and reason.", ["action", "reason"], registry=r
        )
        self.finished_rows = Counter(
            "rcinbox_replies",
            "Outbox rows finished (replies and escalations): sent, failed or outcome unknown.",
            ["kind", "outcome", "cause"],
            registry=r,
        )
        self.waits = Histogram(
            "rcinbox_pacing_wait_seconds",
            "Requests that waited for a throttling group's budget (or a 429's penalty), and how long.",
            ["group"],
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.throttled = Counter(
            "rcinbox_rate_limited",
            "Requests RingCentral answered 429, by throttling group.",
            ["group"],
            registry=r,
        )
        self.renewals = Counter(
            "rcinbox_token_renewals",
            "OAuth session renewals: refresh (refresh token) or login (JWT), and how each went.",
            ["how", "outcome"],
            registry=r,
        )
        self.catchup_runs = Counter(
            "rcinbox_catchup_runs",
            "Message-sync catch-up rounds, by trigger and outcome.",
            ["trigger", "outcome"],
            registry=r,
        )
        self.catchup_found = Counter(
            "rcinbox_catchup_messages",
            "Texts a catch-up archived that no transport had delivered.",
            registry=r,
        )
        self.answers = Histogram(
            "rcinbox_webhook_answer_seconds",
            "Time the WebHook endpoint took to answer a POST, by HTTP status code.",
            ["code"],
            buckets=ANSWER_BUCKETS,
            registry=r,
        )
        ProcessCollector(registry=r)  # process_cpu_seconds_total, process_resident_memory_bytes ...
        self._state = _State(clock)
        r.register(self._state)
        self._depth: OutboxDepth | None = None
        for source in SOURCES:  # every series there from the start: rate() and alerts see a zero
            self.received_counter.labels(source)
            self.duplicates.labels(source)
        for kind in KINDS:
            for outcome, cause in STARTING_ROWS:
                self.finished_rows.labels(kind, outcome, cause)

    def read_from(self, depth: OutboxDepth, transport: TransportState) -> None:
        """Where the scrape reads the outbox's depth and the transport's state (once both exist)."""
        self._depth = depth
        self._state.transport = transport

    async def render(self) -> bytes:
        """The registry in Prometheus's text format, the outbox read from the store first (an
        outbox that cannot be read now is left out of this scrape, and said once in the log)."""
        try:
            self._state.depth = await self._depth() if self._depth is not None else {}
        except Exception as exc:  # the store is busy or failing: the rest of the metrics still tell
            self._state.depth = None
            log.warning("metrics: the outbox could not be read: %s", f"{type(exc).__name__}: {exc}")
        return generate_latest(self.registry)

    # -- Observer --------------------------------------------------------------------------------

    def received(self, transport: str, new: bool) -> None:
        (self.received_counter if new else self.duplicates).labels(transport).inc()

    def decided(self, action: str, reason: str) -> None:
        self.decisions.labels(action, reason).inc()

    def finished(self, kind: str, outcome: Outcome, cause: str) -> None:
        self.finished_rows.labels(kind, outcome, cause).inc()

    def paced(self, group: str, seconds: float) -> None:
        self.waits.labels(group).observe(max(seconds, 0.0))

    def rate_limited(self, group: str) -> None:
        self.throttled.labels(group).inc()

    def renewed(self, how: Renewal, outcome: RenewalOutcome) -> None:
        self.renewals.labels(how, outcome).inc()

    def caught_up(self, trigger: str, ok: bool, found: int) -> None:
        self.catchup_runs.labels(trigger, "ok" if ok else "failed").inc()
        self.catchup_found.inc(found)

    def webhook_answered(self, status: int, seconds: float) -> None:
        self.answers.labels(str(status)).observe(max(seconds, 0.0))


class _State:
    """The states read at scrape time: the outbox (read by :meth:`Metrics.render` just before)
    and the transport's status board."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.depth: dict[str, tuple[int, datetime]] | None = {}  # None: unreadable this time
        self.transport: TransportState | None = None

    def collect(self) -> Iterator[Metric]:
        yield from self._outbox()
        if self.transport is not None:
            yield from _transport(self.transport())

    def _outbox(self) -> Iterator[Metric]:
        if self.depth is None:
            return
        depth = GaugeMetricFamily(
            "rcinbox_outbox_depth", "Outbox rows not finished yet (queued or in flight).", labels=["kind"]
        )
        age = GaugeMetricFamily(
            "rcinbox_outbox_oldest_age_seconds",
            "Age of the oldest unfinished outbox row (0 when there is none).",
            labels=["kind"],
        )
        now = self.clock.now()
        for kind in KINDS:
            count, oldest = self.depth.get(kind, (0, now))
            depth.add_metric([kind], count)
            age.add_metric([kind], max((now - oldest).total_seconds(), 0.0))
        yield depth
        yield age


def _transport(status: TransportStatus) -> Iterator[Metric]:
    labels, value = ["transport"], [status.kind]

    def gauge(name: str, doc: str, number: float) -> GaugeMetricFamily:
        family = GaugeMetricFamily(name, doc, labels=labels)
        family.add_metric(value, number)
        return family

    def counter(name: str, doc: str, number: int) -> CounterMetricFamily:
        family = CounterMetricFamily(name, doc, labels=labels)
        family.add_metric(value, number)
        return family

    yield gauge("rcinbox_transport_up", "1 when the transport is connected and subscribed.", status.ready)
    yield gauge("rcinbox_transport_connected", "1 while the transport is connected.", status.connected)
    yield gauge(
        "rcinbox_transport_subscription_active",
        "1 while the platform's subscription is active.",
        status.subscription_active,
    )
    if status.subscription_expires_at is not None:
        yield gauge(
            "rcinbox_transport_subscription_expiry_timestamp_seconds",
            "When the subscription expires, as the platform last said (Unix time).",
            status.subscription_expires_at.timestamp(),
        )
    if status.last_event_at is not None:
        yield gauge(
            "rcinbox_transport_last_event_timestamp_seconds",
            "When the transport last delivered a notification (Unix time).",
            status.last_event_at.timestamp(),
        )
    yield counter(
        "rcinbox_transport_connects",
        "Connections (WebSocket) or subscriptions (WebHook) made.",
        status.connects,
    )
    yield counter(
        "rcinbox_transport_subscriptions_created", "Subscriptions created.", status.subscriptions_created
    )
    yield counter("rcinbox_transport_renewals", "Subscription renewals.", status.renewals)
    yield counter(
        "rcinbox_transport_unstored",
        "Notifications answered without being stored (WebHook 503; the catch-up fetches them).",
        status.unstored,
    )
