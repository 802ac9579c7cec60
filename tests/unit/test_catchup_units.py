"""Catch-up pieces without the emulator: when the loop runs a round (triggers, safety net, retry),
the sync's edge cases against a scripted API (capped FSync, fallback frame, errors, junk records),
the ``safety.max_age`` rule and the ``too-old`` decision, ``InboundMessage.age``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from catchup_kit import NOW, Intake, ScriptedApi, answer, record
from observer_kit import Recorder
from pipeline_fakes import facts_for
from transport_kit import MemoryKv

from rcinbox.clock import FakeClock
from rcinbox.errors import PlatformError, RulesError, StoreFull
from rcinbox.events import InboundMessage, Party
from rcinbox.platform.retry import RetryPolicy
from rcinbox.rules import decide, parse_rules
from rcinbox.service.catchup import SYNCED_KEY, TOKEN_KEY, CatchUp, CatchUpLoop, CatchUpPolicy, SyncReport
from rcinbox.transports.status import StatusBoard

EXT = "101"


def catchup(api: ScriptedApi, kv: MemoryKv, intake: Intake) -> CatchUp:
    return CatchUp(api, kv, intake, EXT, clock=FakeClock(NOW))


async def test_first_run_is_an_fsync_over_the_lookback_and_stores_the_token() -> None:
    api, kv, intake = (
        ScriptedApi(answer([record(1, 2), record(2, 3, direction="Outbound")])),
        MemoryKv(),
        Intake(),
    )
    report = await catchup(api, kv, intake).run_once()
    assert api.calls == [(None, NOW - timedelta(hours=24))]
    assert report == SyncReport(EXT, "FSync", records=2, inbound=1, accepted=1)
    assert kv.data == {
        TOKEN_KEY.format(ext=EXT): "token-after-2",
        SYNCED_KEY.format(ext=EXT): "2026-11-27T16:00:00Z",
    }
    msg = intake.seen["1"]
    assert (msg.source, msg.extension_id, msg.account_id, msg.raw["timestamp"]) == (
        "sync",
        "101",
        "37439510",
        "2026-11-27T16:00:00Z",
    )
    assert msg.age == timedelta(minutes=2)


async def test_a_refused_token_falls_back_to_an_fsync_from_the_last_sync() -> None:
    refused = PlatformError(400, "MSG-333", "Invalid message synchronisation request")
    api, kv, intake = ScriptedApi(refused, answer([record(7, 90)])), MemoryKv(), Intake()
    kv.data[TOKEN_KEY.format(ext=EXT)] = "stale"
    kv.data[SYNCED_KEY.format(ext=EXT)] = "2026-11-27T10:00:00Z"
    report = await catchup(api, kv, intake).run_once()
    assert api.calls == [("stale", None), (None, datetime(2026, 11, 27, 9, 55, tzinfo=UTC))]
    assert (report.sync_type, report.fell_back, report.accepted) == ("FSync", True, 1)
    assert kv.data[TOKEN_KEY.format(ext=EXT)] == "token-after-1"


async def test_the_fallback_frame_reaches_back_at_most_the_fallback_limit() -> None:
    refused = PlatformError(400, "MSG-333", "Invalid message synchronisation request")
    api, kv = ScriptedApi(refused, answer([])), MemoryKv()
    kv.data[TOKEN_KEY.format(ext=EXT)] = "stale"
    kv.data[SYNCED_KEY.format(ext=EXT)] = "2026-01-01T00:00:00Z"
    await catchup(api, kv, Intake()).run_once()
    assert api.calls[1] == (None, NOW - timedelta(days=7))


async def test_other_errors_keep_the_token_and_propagate() -> None:
    api, kv = ScriptedApi(PlatformError(503, "CMN-211", "Service unavailable")), MemoryKv()
    kv.data[TOKEN_KEY.format(ext=EXT)] = "good"
    with pytest.raises(PlatformError):
        await catchup(api, kv, Intake()).run_once()
    assert kv.data == {TOKEN_KEY.format(ext=EXT): "good"}


async def test_a_capped_fsync_reads_the_rest_of_the_frame_from_the_message_store() -> None:
    api, intake = ScriptedApi(answer([record(3, 10), record(2, 20)], older=True)), Intake()
    api.older = [record(2, 20), record(1, 30)]
    report = await catchup(api, MemoryKv(), intake).run_once()
    assert api.listed == [
        {
            "messageType": "SMS",
            "direction": "Inbound",
            "dateFrom": NOW - timedelta(hours=24),
            "dateTo": NOW - timedelta(minutes=20),
        }
    ]
    assert sorted(intake.seen) == ["1", "2", "3"]
    assert (report.inbound, report.accepted) == (4, 3)


async def test_deleted_junk_and_non_sms_records_are_skipped() -> None:
    records = [
        {"id": 5, "availability": "Purged"},
        record(6, 1, type="Fax"),
        record(7, 1, availability="Deleted"),
        record(8, 1, creationTime="yesterday"),  # junk: no time to archive it under
        record(9, 1),
        record(10, 1, to=[]),  # no recipient: archived all the same (decided no-receiving-number)
    ]
    api, intake = ScriptedApi(answer(records, "ISync")), Intake()
    report = await catchup(api, MemoryKv(), intake).run_once()
    assert (report.sync_type, report.records, report.inbound, report.accepted) == ("ISync", 6, 3, 2)
    assert list(intake.seen) == ["9", "10"]
    assert intake.seen["10"].receiving_number is None


class CountingCatchUp:
    """Stands in for CatchUp in the loop tests: counts runs, fails ``failures`` times first."""

    extension_id = EXT

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.runs = 0
        self.failures = failures
        self.error = error or PlatformError(503, "CMN-211", "Service unavailable")

    async def run_once(self) -> SyncReport:
        self.runs += 1
        if self.failures:
            self.failures -= 1
            raise self.error
        return SyncReport(EXT, "ISync", 0, 0, 0)


async def loop_rounds(loop: CatchUpLoop, count: int, within: float = 5) -> None:
    async def done() -> bool:
        return loop.changes.count >= count

    await loop.changes.until(done, within)


async def run_loop(loop: CatchUpLoop) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop), name="test.catchup")
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


@pytest.fixture
def board() -> StatusBoard:
    return StatusBoard("websocket")


@pytest.fixture
async def looping(board: StatusBoard) -> AsyncIterator[tuple[CatchUpLoop, CountingCatchUp]]:
    fake = CountingCatchUp()
    loop = CatchUpLoop([fake], board, policy=CatchUpPolicy(interval=3600))  # type: ignore[list-item]
    async for _ in run_loop(loop):
        yield loop, fake


async def test_rounds_follow_new_subscriptions_not_successful_recoveries(
    board: StatusBoard, looping: tuple[CatchUpLoop, CountingCatchUp]
) -> None:
    loop, fake = looping
    board.update(subscriptions_created=1)  # subscribed, not yet connected: nothing yet
    with pytest.raises(TimeoutError):
        await loop_rounds(loop, 1, within=0.2)
    board.update(connected=True, subscription_active=True)
    await loop_rounds(loop, 1)
    board.update(connected=False)
    board.update(connected=True, recovery="Successful")  # the gateway replayed the gap itself
    with pytest.raises(TimeoutError):
        await loop_rounds(loop, 2, within=0.2)
    board.update(connected=False)
    board.update(subscriptions_created=2)
    board.update(connected=True, recovery="Failed")  # re-subscribed: whatever fell in the gap is lost
    await loop_rounds(loop, 2)
    assert fake.runs == 2
    assert [r.sync_type for r in loop.reports] == ["ISync", "ISync"]


async def test_the_safety_net_runs_periodically_even_without_a_subscription(board: StatusBoard) -> None:
    fake = CountingCatchUp()
    loop = CatchUpLoop([fake], board, policy=CatchUpPolicy(interval=0.05))  # type: ignore[list-item]
    async for _ in run_loop(loop):
        await loop_rounds(loop, 3)
    assert fake.runs >= 3 and not board.status.ready


async def test_a_failing_round_is_retried_with_backoff_and_the_loop_survives(board: StatusBoard) -> None:
    fake = CountingCatchUp(failures=2)
    fast = RetryPolicy(attempts=100, base_delay=0.01, max_delay=0.05, jitter=0)
    loop = CatchUpLoop([fake], board, policy=CatchUpPolicy(interval=3600, retry=fast))  # type: ignore[list-item]
    board.update(connected=True, subscription_active=True, subscriptions_created=1)
    async for _ in run_loop(loop):
        await loop_rounds(loop, 3)
        with pytest.raises(TimeoutError):  # back to the 1 h period once it succeeded
            await loop_rounds(loop, 4, within=0.2)
    assert fake.runs == 3
    assert len(loop.reports) == 1


async def test_a_notification_the_transport_could_not_store_triggers_a_round(
    board: StatusBoard, looping: tuple[CatchUpLoop, CountingCatchUp]
) -> None:
    loop, fake = looping
    board.update(connected=True, subscription_active=True, subscriptions_created=1)
    await loop_rounds(loop, 1)
    board.update(unstored=1)  # a WebHook 503 (never delivered again), a WebSocket frame held back
    await loop_rounds(loop, 2)
    assert fake.runs == 2


async def test_after_a_round_failed_on_a_full_disk_the_retry_comes_within_the_stores_backoff(
    board: StatusBoard,
) -> None:
    full = StoreFull("the database's disk is full")
    fake = CountingCatchUp(failures=1, error=full)
    loop = CatchUpLoop([fake], board, policy=CatchUpPolicy(interval=3600))  # type: ignore[list-item]
    assert loop.policy.retry.delay(1, rand=lambda: 0.0) >= 3.75  # the platform backoff: 5 s first
    board.update(connected=True, subscription_active=True, subscriptions_created=1)
    async for _ in run_loop(loop):
        await loop_rounds(loop, 2, within=3)  # retried after about 1 s: the disk may have room now
    assert fake.runs == 2 and len(loop.reports) == 1


async def test_catch_up_now_reports_failure() -> None:
    loop = CatchUpLoop([CountingCatchUp(failures=1)], StatusBoard("webhook"))  # type: ignore[list-item]
    loop.observer = seen = Recorder()
    assert await loop.catch_up() is False
    assert await loop.catch_up() is True
    assert seen.of("caught_up") == [("manual", False, 0), ("manual", True, 0)]  # the metrics


async def test_each_round_tells_the_texts_it_archived(board: StatusBoard) -> None:
    api = ScriptedApi(answer([record(1, 2), record(2, 3), record(3, 4, direction="Outbound")]))
    loop = CatchUpLoop([catchup(api, MemoryKv(), Intake())], board)
    loop.observer = seen = Recorder()
    assert await loop.catch_up("subscribed") is True
    assert seen.of("caught_up") == [("subscribed", True, 2)]


def test_max_age_is_a_safety_rule_with_a_floor() -> None:
    assert parse_rules("").max_age == timedelta(hours=1)
    assert parse_rules('[safety]\nmax_age = "2h"\n').max_age == timedelta(hours=2)
    with pytest.raises(RulesError) as refused:
        parse_rules('[safety]\nloop_fuse = "3/24h"\nmax_age = "1m"\n')
    assert refused.value.line == 3
    assert refused.value.reason == "safety.max_age must be like \"1h\" (at least 5m), not '1m'"


def inbound(age: timedelta | None) -> InboundMessage:
    raw: dict[str, Any] = {} if age is None else {"timestamp": (NOW + age).isoformat()}
    return InboundMessage(
        handed_over_at=None if age is None else NOW + age,
        message_id="1",
        extension_id=EXT,
        account_id="",
        sender=Party("+14155550100"),
        recipients=(Party("+16505550100", target=True),),
        text="Are you there?",
        attachments=(),
        conversation_id=None,
        created_at=NOW,
        raw=raw,
        source="sync",
    )


RULES = parse_rules(
    "[vacation]\nenabled = true\nstart = 2020-01-01T00:00:00Z\nend = 2099-01-01T00:00:00Z\n"
    'message = "Auto-reply: away."\naudience = "everyone"\n'
)


@pytest.mark.parametrize(
    ("age", "reason"),
    [
        (None, "replied"),
        (timedelta(minutes=2), "replied"),
        (timedelta(hours=1), "replied"),
        (timedelta(hours=1, seconds=1), "too-old"),
        (timedelta(hours=20), "too-old"),
    ],
)
def test_too_old_when_older_than_max_age_on_arrival(age: timedelta | None, reason: str) -> None:
    assert decide(facts_for(inbound(age), NOW), RULES).reason == reason


def test_an_old_stop_is_still_an_opt_out() -> None:
    msg = replace(inbound(timedelta(hours=20)), text="STOP")
    assert decide(facts_for(msg, NOW), RULES).action == "opt-out"


def test_age_is_never_negative_and_unknown_without_a_timestamp() -> None:
    assert inbound(-timedelta(minutes=5)).age == timedelta(0)
    assert inbound(None).age is None
    record = {"id": 1, "from": {"phoneNumber": "+14155550100"}, "creationTime": NOW.isoformat()}
    assert InboundMessage.from_record(record, EXT, timestamp=(NOW + timedelta(hours=2)).isoformat()).age == (
        timedelta(hours=2)
    )
    assert InboundMessage.from_record(record, EXT, timestamp="yesterday").age is None


class StuckCatchUp(CountingCatchUp):
    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()

    async def run_once(self) -> SyncReport:
        self.runs += 1
        self.started.set()
        await asyncio.Event().wait()  # a sync that never answers
        raise AssertionError("unreachable")


async def test_stop_abandons_a_round_in_progress(board: StatusBoard) -> None:
    stuck = StuckCatchUp()
    loop = CatchUpLoop([stuck], board, policy=CatchUpPolicy(interval=0.01))  # type: ignore[list-item]
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop), name="test.catchup")
    await asyncio.wait_for(stuck.started.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 1)
    assert (stuck.runs, list(loop.reports)) == (1, [])


class SlowIntake(Intake):
    """Archives each batch in 2.5 s on the test clock (a busy machine): no real waiting."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    async def accept_many(self, msgs: Sequence[InboundMessage]) -> int:
        self.clock.advance(2.5)
        return await super().accept_many(msgs)


async def test_a_long_catch_up_logs_its_progress_and_a_summary(caplog: pytest.LogCaptureFixture) -> None:
    """2,400 texts archived 500 at a time (one transaction each), 2.5 s a batch: a progress line
    every 5 s (count, rate, what remains), then the summary with the rate."""
    clock = FakeClock(NOW)
    texts = [record(k, 30, **{"from": {"phoneNumber": f"+1415555{k:04d}"}}) for k in range(1, 2401)]
    api, kv, intake = ScriptedApi(answer(texts)), MemoryKv(), SlowIntake(clock)
    caplog.set_level("INFO", logger="rcinbox.catchup")
    report = await CatchUp(api, kv, intake, EXT, clock=clock).run_once()
    assert (report.inbound, report.accepted) == (2400, 2400)
    assert intake.batches == [500, 500, 500, 500, 400]
    assert [r.getMessage() for r in caplog.records] == [
        "catch-up: 1,000 of 2,400 archived (200/s), 1,400 remaining (ext 101)",
        "catch-up: 2,000 of 2,400 archived (200/s), 400 remaining (ext 101)",
        "ext 101: FSync caught up 2,400 new of 2,400 inbound text(s) in 12.5 s (192/s)",
    ]


class BigCatchUp:
    extension_id = EXT

    async def run_once(self) -> SyncReport:
        return SyncReport(EXT, "ISync", 5000, 5000, 5000)


class ScriptedBacklog:
    """The store's counts by state, one answer per call, from a script."""

    def __init__(self, *answers: dict[str, int]) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, datetime]] = []

    async def intake_states(self, source: str, since: datetime) -> dict[str, int]:
        self.asked.append((source, since))
        return self.answers.pop(0)


async def settled(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until ``condition()`` holds (scheduling, not time)."""
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the tasks did not get there")


async def test_a_large_catch_up_is_followed_until_every_text_is_handled(
    board: StatusBoard, caplog: pytest.LogCaptureFixture
) -> None:
    """5,000 texts archived at once: every 5 s a line says how many are handled (decided and
    answered, or parked) and what remains, until none does; then a summary, and no more lines."""
    clock = FakeClock(NOW)
    backlog = ScriptedBacklog(
        {"archived": 3000, "decided": 400, "done": 1600},
        {"decided": 200, "done": 4790, "failed": 10},
        {"done": 4990, "failed": 10},
    )
    loop = CatchUpLoop(
        [BigCatchUp()],  # type: ignore[list-item]
        board,
        policy=CatchUpPolicy(interval=3600),
        clock=clock,
        backlog=backlog,
    )
    caplog.set_level("INFO", logger="rcinbox.catchup")
    async for _ in run_loop(loop):
        board.update(connected=True, subscription_active=True, subscriptions_created=1)
        await loop_rounds(loop, 1)
        for k in range(1, 4):
            await settled(lambda: clock.sleeping == 2)  # the loop's next round, the follower's next line
            clock.advance(5)
            await settled(lambda k=k: len(backlog.asked) == k)
        await settled(lambda: clock.sleeping == 1)  # the follower is done: only the loop sleeps
    assert [source for source, _ in backlog.asked] == ["sync"] * 3
    assert {since for _, since in backlog.asked} == {NOW}  # what this round archived
    assert [r.getMessage() for r in caplog.records if r.name == "rcinbox.catchup"] == [
        "catch-up: 1,600 of 5,000 texts handled (320/s), 3,400 remaining "
        "(3,000 to decide, 400 replies to send)",
        "catch-up: 4,800 of 5,000 texts handled (480/s), 200 remaining (0 to decide, 200 replies to send)",
        "catch-up: all 5,000 texts handled in 15 s (333/s)",
    ]
