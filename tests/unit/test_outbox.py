from __future__ import annotations

from datetime import timedelta

import pytest
from observer_kit import Recorder
from outbox_kit import FAST, TEXT, queue_reply, run_until, state
from pipeline_fakes import CHARLIE, EXT, OWNER, FakePlatform, envelope

from rcinbox.errors import Forbidden, PlatformError, RateLimited, ServerError
from rcinbox.events import InboundMessage
from rcinbox.service.outbox import Outbox
from rcinbox.store import DecisionRecord, Store


async def test_sends_and_marks_sent_with_the_platform_id(store: Store) -> None:
    fake = FakePlatform()
    row = await queue_reply(store, "1")
    outbox = Outbox(store, fake, options=FAST)
    outbox.observer = seen = Recorder()
    assert await outbox.drain() == 1
    assert await state(store, row) == ("sent", 1, "9000", None)
    assert seen.of("finished") == [("reply", "sent", "sent")]
    assert [(r["from"]["phoneNumber"], r["to"][0]["phoneNumber"], r["subject"]) for r in fake.sent] == [
        (OWNER, CHARLIE, TEXT)
    ]
    assert (await store.message(row.message_pk)).state == "done"
    assert fake.list_calls == []  # nothing to reconcile on a first attempt


@pytest.mark.parametrize(
    "error",
    [
        PlatformError(400, "MSG-243", "Phone number is blocked"),
        Forbidden(403, "MSG-304", "Phone number doesn't belong to extension"),
    ],
)
async def test_refusals_fail_for_good(store: Store, error: PlatformError) -> None:
    fake = FakePlatform()
    fake.send_errors = [error]
    row = await queue_reply(store, "2")
    outbox = Outbox(store, fake, options=FAST)
    outbox.observer = seen = Recorder()
    await outbox.drain()
    assert seen.of("finished") == [("reply", "failed", "refused")]
    assert await state(store, row) == (
        "failed",
        1,
        None,
        f"refused: HTTP {error.status} {error.error_code}: {error.message}",
    )
    assert await store.outbox.next_due() is None
    assert (await store.message(row.message_pk)).state == "done"
    assert fake.send_calls == 1


async def test_server_error_is_retried_after_reconciling(store: Store) -> None:
    fake = FakePlatform()
    fake.send_errors = [ServerError(503, "MSG-290", "Sending SMS failed. Please try later.")]
    row = await queue_reply(store, "3")
    outbox = Outbox(store, fake, options=FAST)
    await outbox.drain()
    assert (await state(store, row))[:2] == ("sending", 1)
    await run_until(outbox, store, row, "sent")
    assert await state(store, row) == (
        "sent",
        2,
        "9000",
        "ServerError: HTTP 503 MSG-290: Sending SMS failed. Please try later.",
    )
    assert fake.send_calls == 2
    assert len(fake.list_calls) == 1
    assert fake.list_calls[0]["direction"] == "Outbound" and fake.list_calls[0]["ext"] == EXT


async def test_lost_response_is_not_sent_twice(store: Store) -> None:
    fake = FakePlatform()
    fake.lost_responses = 1
    row = await queue_reply(store, "4")
    outbox = Outbox(store, fake, options=FAST)
    outbox.observer = seen = Recorder()
    await outbox.drain()
    assert len(fake.sent) == 1 and (await state(store, row))[0] == "sending"
    await run_until(outbox, store, row, "sent")
    assert seen.of("finished") == [("reply", "sent", "reconciled")]
    assert fake.send_calls == 1
    assert (await state(store, row))[2] == "9000"


async def test_reconciliation_ignores_texts_already_accounted_for(store: Store) -> None:
    fake = FakePlatform()
    earlier = await queue_reply(store, "5")
    await Outbox(store, fake, options=FAST).drain()  # last week's identical reply, recorded as 9000
    row = await queue_reply(store, "6")
    claim = await store.outbox.claim(row.id)
    assert claim is not None
    # crash before the API call; restart
    assert await Outbox(store, fake, options=FAST).store.outbox.recover_in_flight() == 1
    await Outbox(store, fake, options=FAST).drain()
    assert await state(store, earlier) == ("sent", 1, "9000", None)
    assert await state(store, row) == ("sent", 2, "9001", None)
    assert fake.send_calls == 2


async def test_rate_limited_waits_retry_after(store: Store) -> None:
    fake = FakePlatform()
    fake.send_errors = [RateLimited(429, "MSG-305", "Request rate exceeded", retry_after=60)]
    row = await queue_reply(store, "7")
    before = store.clock.now()
    await Outbox(store, fake, options=FAST).drain()
    due = await store.outbox.next_due()
    assert due is not None and due - before >= timedelta(seconds=60)
    assert (await state(store, row))[0] == "sending"


async def test_opted_out_after_queueing_gets_nothing(store: Store) -> None:
    fake = FakePlatform()
    row = await queue_reply(store, "8")
    stop_msg = InboundMessage.from_notification(envelope(message_id="9", text="STOP"), "sync")
    await store.accept(stop_msg)
    stored = await store.find_message(EXT, "9")
    assert stored is not None
    await store.conclude(stored.pk, DecisionRecord("opt-out", "opt-out", "vacation", {}))
    outbox = Outbox(store, fake, options=FAST)
    outbox.observer = seen = Recorder()
    await outbox.drain()
    assert seen.of("finished") == [("reply", "failed", "recheck")]
    assert await state(store, row) == (
        "failed",
        1,
        None,
        "opted-out: the counterpart opted out before the reply went out",
    )
    assert fake.send_calls == 0


async def test_gives_up_after_the_last_attempt(store: Store) -> None:
    fake = FakePlatform()
    fake.send_errors = [ServerError(500, "CMN-201", "boom") for _ in range(3)]
    row = await queue_reply(store, "10")
    outbox = Outbox(store, fake, options=FAST)
    outbox.observer = seen = Recorder()
    await run_until(outbox, store, row, "unknown")
    assert seen.of("finished") == [("reply", "unknown", "gave-up")]
    assert await state(store, row) == (  # a 500 may have gone out: kept in the ledger
        "unknown",
        3,
        None,
        "outcome unknown: gave up after 3 attempts: ServerError: HTTP 500 CMN-201: boom",
    )
    assert fake.send_calls == 3
