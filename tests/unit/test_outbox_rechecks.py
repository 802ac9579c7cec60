"""What the outbox checks before and after a send (review of issue 3, findings 4, 5 and 6): a
queued reply the current rules or its age forbid is dropped with its reason; a reply given up
with an unknown outcome stays in the replies ledger; opt-outs and the ledger match numbers
however they are written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from outbox_kit import FAST, queue_reply, state
from pipeline_fakes import CHARLIE, EXT, OWNER, VACATION_TOML, FakePlatform, envelope
from recheck_kit import CASES, QUEUED_AT, Case

from rcinbox.clock import FakeClock
from rcinbox.errors import ServerError, TransportError
from rcinbox.events import InboundMessage
from rcinbox.rules.config import Rules, parse_rules
from rcinbox.service.outbox import Outbox
from rcinbox.store import DecisionRecord, Store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    async with await Store.open(store_url, clock=clock) as opened:
        yield opened


def rules(toml: str = VACATION_TOML) -> Rules:
    return parse_rules(toml)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_the_outbox_rechecks_every_rule_before_sending(
    store: Store, clock: FakeClock, case: Case
) -> None:
    """The table of tests/kits/recheck_kit.py (see tests/unit/test_recheck.py), through the
    outbox: a queued reply the current rules, its age or a STOP forbid is dropped with its reason;
    otherwise it goes out."""
    assert clock.now() == QUEUED_AT
    fake = FakePlatform()
    row = await queue_reply(store, "1")
    if case.opted_out:
        await opt_out(store, "(415) 555-0100")
    clock.advance(case.waited)
    current = case.parsed()
    assert await Outbox(store, fake, options=FAST, rules=lambda: current).drain() == 1
    if case.expected is None:
        assert (await state(store, row))[0] == "sent" and len(fake.sent) == 1
        return
    assert await state(store, row) == ("failed", 1, None, case.expected)
    assert fake.sent == []
    [entry] = [e for e in await store.recent() if e.message_id == "1"]
    assert entry.reply_state == "failed"


async def opt_out(store: Store, number: str) -> None:
    """``number`` texts STOP (recorded as the pipeline records it)."""
    stop = InboundMessage.from_notification(envelope(message_id="99", sender=number, text="STOP"), "sync")
    assert await store.accept(stop)
    [pk] = [m.pk for m in await store.due()]
    assert await store.conclude(pk, DecisionRecord("opt-out", "opt-out", "vacation", {}))


async def test_a_queued_reply_the_rules_still_allow_goes_out(store: Store, clock: FakeClock) -> None:
    fake = FakePlatform()
    row = await queue_reply(store, "1")
    clock.advance(timedelta(minutes=59))
    current = rules()
    assert await Outbox(store, fake, options=FAST, rules=lambda: current).drain() == 1
    assert (await state(store, row))[0] == "sent"


async def test_given_up_with_an_unknown_outcome_stays_in_the_ledger(store: Store, clock: FakeClock) -> None:
    fake = FakePlatform()
    fake.send_errors = [ServerError(503, "CMN-211", "unavailable")] * 3
    row = await queue_reply(store, "1")
    outbox = Outbox(store, fake, options=FAST)
    for _ in range(3):
        await outbox.deliver(row.id)
        clock.advance(timedelta(seconds=1))
    status, attempts, platform_id, error = await state(store, row)
    assert (status, attempts, platform_id) == ("unknown", 3, None)
    assert error == "outcome unknown: gave up after 3 attempts: ServerError: HTTP 503 CMN-211: unavailable"
    assert len(fake.list_calls) == 3  # attempts 2 and 3 reconciled the one before, then once more
    assert await store.last_reply_at(CHARLIE, "vacation") == row.queued_at
    assert await store.automated_count(CHARLIE, row.queued_at) == 1


async def test_given_up_but_found_in_the_message_store_is_sent(store: Store, clock: FakeClock) -> None:
    fake = FakePlatform()
    fake.send_errors = [TransportError("POST /sms: ConnectError", timeout=False)] * 2
    fake.lost_responses = 1  # the last attempt reaches the platform, its answer is lost
    row = await queue_reply(store, "1")
    outbox = Outbox(store, fake, options=FAST)
    for _ in range(3):
        await outbox.deliver(row.id)
        clock.advance(timedelta(seconds=1))
    [sent] = fake.sent
    assert (await state(store, row))[:3] == ("sent", 3, str(sent["id"]))
    assert len(fake.list_calls) == 3  # the final reconciliation found it


async def test_given_up_on_a_send_that_surely_never_left_is_failed(store: Store, clock: FakeClock) -> None:
    fake = FakePlatform()
    fake.send_errors = [TransportError("POST /sms: ConnectError", sent=False)] * 3
    row = await queue_reply(store, "1")
    outbox = Outbox(store, fake, options=FAST)
    for _ in range(3):
        await outbox.deliver(row.id)
        clock.advance(timedelta(seconds=1))
    assert (await state(store, row))[:2] == ("failed", 3)
    assert await store.automated_count(CHARLIE, row.queued_at) == 0


async def test_opt_outs_and_the_ledger_match_numbers_however_written(store: Store) -> None:
    msg = InboundMessage.from_notification(
        envelope(message_id="10", sender="(415) 555-0100", text="STOP"), "webhook"
    )
    assert await store.accept(msg)
    [pk] = [m.pk for m in await store.due()]
    suppress = DecisionRecord("opt-out", "opt-out", "vacation", {})
    assert await store.conclude(pk, suppress)
    assert await store.opted_out("+14155550100") is True
    assert await store.opted_out("415.555.0100") is True
    short = InboundMessage.from_notification(envelope(message_id="11", sender="+12345", text="STOP"), "sync")
    assert await store.accept(short)
    [pk] = [m.pk for m in await store.due()]
    assert await store.conclude(pk, suppress)
    assert await store.opted_out("12345") is True

    other = InboundMessage.from_notification(envelope(message_id="12", sender="415-555-0177"), "webhook")
    assert await store.accept(other)
    [pk] = [m.pk for m in await store.due()]
    reply = DecisionRecord(
        "reply", "replied", "vacation", {}, reply_text="Away", reply_from=OWNER, reply_to="415-555-0177"
    )
    assert await store.conclude(pk, reply)
    assert await store.last_reply_at("+14155550177", "vacation") is not None
    assert await store.automated_count("(415) 555-0177", datetime(2026, 1, 1, tzinfo=UTC)) == 1
    row = await store.outbox.for_message(pk)
    assert row is not None and row.to_number == "+14155550177"
    assert row.extension_id == EXT
