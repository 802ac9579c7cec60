"""The service's metrics (service/metrics.py) as Prometheus's parser reads them: each event an
observer is told lands in its series, the outbox and the transport are read at scrape time, and
two services in one process (or tests) never share a count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from rcinbox.clock import FakeClock
from rcinbox.errors import StoreError
from rcinbox.observe import NOBODY
from rcinbox.service.metrics import Metrics
from rcinbox.transports.status import TransportStatus

AT = datetime(2026, 12, 21, 15, 0, tzinfo=UTC)
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(metrics: Metrics) -> Samples:
    text = (await metrics.render()).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def test_each_event_lands_in_its_series() -> None:
    m = Metrics(FakeClock(AT))
    m.received("webhook", True)
    m.received("webhook", False)
    m.received("sync", True)
    m.decided("suppress", "opted-out")
    m.finished("reply", "failed", "recheck")
    m.finished("escalation", "unknown", "gave-up")
    m.paced("Medium", 12.5)
    m.rate_limited("Medium")
    m.renewed("refresh", "refused")
    m.caught_up("periodic", False, 0)
    m.caught_up("subscribed", True, 7)
    m.webhook_answered(503, 2.6)
    s = await scrape(m)
    assert value(s, "rcinbox_messages_received_total", transport="webhook") == 1
    assert value(s, "rcinbox_messages_received_total", transport="sync") == 1
    assert value(s, "rcinbox_messages_received_total", transport="websocket") == 0  # there from the start
    assert value(s, "rcinbox_messages_duplicate_total", transport="webhook") == 1
    assert value(s, "rcinbox_decisions_total", action="suppress", reason="opted-out") == 1
    assert value(s, "rcinbox_replies_total", kind="reply", outcome="failed", cause="recheck") == 1
    assert value(s, "rcinbox_replies_total", kind="escalation", outcome="unknown", cause="gave-up") == 1
    assert value(s, "rcinbox_replies_total", kind="reply", outcome="sent", cause="sent") == 0
    assert value(s, "rcinbox_pacing_wait_seconds_count", group="Medium") == 1
    assert value(s, "rcinbox_pacing_wait_seconds_sum", group="Medium") == 12.5
    assert value(s, "rcinbox_pacing_wait_seconds_bucket", group="Medium", le="5.0") == 0
    assert value(s, "rcinbox_pacing_wait_seconds_bucket", group="Medium", le="15.0") == 1
    assert value(s, "rcinbox_rate_limited_total", group="Medium") == 1
    assert value(s, "rcinbox_token_renewals_total", how="refresh", outcome="refused") == 1
    assert value(s, "rcinbox_catchup_runs_total", trigger="periodic", outcome="failed") == 1
    assert value(s, "rcinbox_catchup_runs_total", trigger="subscribed", outcome="ok") == 1
    assert value(s, "rcinbox_catchup_messages_total") == 7
    assert value(s, "rcinbox_webhook_answer_seconds_bucket", code="503", le="2.5") == 0
    assert value(s, "rcinbox_webhook_answer_seconds_bucket", code="503", le="3.0") == 1
    assert value(s, "process_resident_memory_bytes") is not None


async def test_the_outbox_and_the_transport_are_read_at_each_scrape() -> None:
    clock = FakeClock(AT)
    m = Metrics(clock)
    depth = {"reply": (3, AT - timedelta(seconds=90))}
    status = TransportStatus("websocket", connected=True, subscription_active=True, connects=2, renewals=5)

    async def outbox() -> dict[str, tuple[int, datetime]]:
        return depth

    m.read_from(outbox, lambda: status)
    s = await scrape(m)
    assert value(s, "rcinbox_outbox_depth", kind="reply") == 3
    assert value(s, "rcinbox_outbox_oldest_age_seconds", kind="reply") == 90
    assert value(s, "rcinbox_outbox_depth", kind="escalation") == 0
    assert value(s, "rcinbox_outbox_oldest_age_seconds", kind="escalation") == 0
    assert value(s, "rcinbox_transport_up", transport="websocket") == 1
    assert value(s, "rcinbox_transport_connects_total", transport="websocket") == 2
    assert value(s, "rcinbox_transport_renewals_total", transport="websocket") == 5
    assert value(s, "rcinbox_transport_subscription_expiry_timestamp_seconds", transport="websocket") is None
    clock.advance(30)
    depth.clear()
    status = TransportStatus(
        "websocket",
        connected=False,
        reason="reconnecting",
        subscription_expires_at=AT + timedelta(minutes=15),
    )
    s = await scrape(m)
    assert value(s, "rcinbox_outbox_depth", kind="reply") == 0
    assert value(s, "rcinbox_transport_up", transport="websocket") == 0
    expiry = (AT + timedelta(minutes=15)).timestamp()
    assert (
        value(s, "rcinbox_transport_subscription_expiry_timestamp_seconds", transport="websocket") == expiry
    )


async def test_an_outbox_that_cannot_be_read_leaves_only_its_gauges_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    m = Metrics(FakeClock(AT))

    async def failing() -> dict[str, tuple[int, datetime]]:
        raise StoreError("database is locked")

    m.read_from(failing, lambda: TransportStatus("webhook"))
    s = await scrape(m)
    assert value(s, "rcinbox_outbox_depth", kind="reply") is None
    assert value(s, "rcinbox_transport_up", transport="webhook") == 0
    assert "metrics: the outbox could not be read: StoreError: database is locked" in caplog.text


async def test_two_services_in_one_process_keep_their_own_counts() -> None:
    first, second = Metrics(), Metrics()
    first.received("websocket", True)
    assert value(await scrape(first), "rcinbox_messages_received_total", transport="websocket") == 1
    assert value(await scrape(second), "rcinbox_messages_received_total", transport="websocket") == 0
    assert not [name for name in REGISTRY._names_to_collectors if name.startswith("rcinbox")]


async def test_the_default_observer_counts_nothing_and_never_fails() -> None:
    NOBODY.received("webhook", True)
    NOBODY.finished("reply", "sent", "sent")
    NOBODY.webhook_answered(200, 0.01)
