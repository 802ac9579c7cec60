"""Gap-free intake: RingCentral message-sync (PLATFORM.md §5.5) catches up whatever no transport
delivered — texts that arrived while rcinbox was down, during a WebSocket gap whose session
recovery ``Failed``, or before a Blacklisted/deleted/expired WebHook subscription was re-created.

:class:`CatchUp` is one extension's sync. The first run ever is an FSync over the last
``lookback`` (24 h); its ``syncToken`` is kept in the store's kv table, and every later run is an
ISync from it. A token the platform refuses (400 ``MSG-333``) falls back to an FSync from the last
successful sync (at most ``fallback_limit`` back). Each inbound SMS record becomes an
:class:`~rcinbox.events.InboundMessage` (source ``"sync"``, envelope ``timestamp`` = the sync's
``syncTime``) and goes through ``pipeline.accept()``: what a transport already delivered is a
duplicate the store's unique constraint drops, so each text is archived and answered once, whoever
saw it first. Records are archived :data:`BATCH` per transaction (``pipeline.accept_many()``); the
log says how far a long one got, and a large catch-up's handling is followed until it is over
(:mod:`rcinbox.service.backlog`). The token is stored only after every record was accepted: a crash
half-way re-reads.

On the very first run (no token stored yet), texts created before this process started are
archived but never answered (``before-first-start``): they came before rcinbox was installed, and a
human may have dealt with them already. Texts created after the start are answered as usual.

Old texts are archived but not answered: the pipeline hands :attr:`InboundMessage.age` (syncTime −
creationTime, both the platform's clock) to ``decide()``, which suppresses a text older than the
rules' ``safety.max_age`` (1 h) with reason ``too-old``. A text missed for two minutes during a
restart still gets its reply; one from yesterday does not.

:class:`CatchUpLoop` runs every extension's sync on events, never by polling: once the transport
is subscribed at start (so no text falls between the sync and the subscription), again after
every subscription the transport (re)creates (``StatusBoard.subscriptions_created``: a WebSocket
re-subscription after a failed recovery, a re-created WebHook subscription; a ``Successful``
recovery replays the gap itself and creates none), after a notification the transport could not
store at once (``StatusBoard.unstored``, e.g. a full disk: the WebHook endpoint answered 503 and the
platform never delivers it again; the WebSocket client holds the frame, but what the gateway sent
behind it is lost if the connection drops meanwhile), and every ``interval`` (15 min) as a safety
net (message-sync is a Light call). A failing round is retried with backoff and never stops the
service; after a round that failed on a full disk, the backoff is the store's (at most 30 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from rcinbox.backoff import Backoff
from rcinbox.clock import SYSTEM, Clock
from rcinbox.errors import PlatformError, StoreFull
from rcinbox.events import InboundMessage
from rcinbox.observe import NOBODY, Observer
from rcinbox.service.backlog import Backlog, Following, Progress
from rcinbox.timestamps import maybe_time
from rcinbox.transports import KeyValue
from rcinbox.transports.status import StatusBoard, TransportStatus
from rcinbox.waiting import ROUND_RETRY, Changes
from rcinbox.wire import MessageRecord, MessageSync

log = logging.getLogger("rcinbox.catchup")

TOKEN_KEY = "catchup.{ext}.sync_token"
SYNCED_KEY = "catchup.{ext}.sync_time"  # syncTime of the last successful sync (ISO)
_IDS = re.compile(r"/account/([^/?]+)/extension/([^/?]+)/")

RETRY = Backoff(base_delay=5.0, multiplier=3.0, max_delay=900.0)
BATCH = 500  # records archived per transaction
SyncType = Literal["FSync", "ISync"]
Trigger = Literal["subscribed", "unstored", "periodic", "retry", "manual"]


@dataclass(frozen=True)
class CatchUpPolicy:
    lookback: timedelta = timedelta(hours=24)  # frame of the first FSync ever
    fallback_limit: timedelta = timedelta(days=7)  # an FSync after a refused token reaches back at most this
    overlap: timedelta = timedelta(minutes=5)  # the fallback FSync starts this long before the last sync
    interval: float = 900.0  # seconds between safety-net rounds
    retry: Backoff = RETRY

    def __post_init__(self) -> None:
        if self.lookback <= timedelta(0) or self.fallback_limit < self.lookback or self.interval <= 0:
            raise ValueError(f"invalid catch-up policy: {self}")


class SyncApi(Protocol):
    """The REST calls a catch-up makes (:class:`~rcinbox.platform.client.PlatformClient`)."""

    async def message_sync(
        self, sync_token: str | None, ext: str = "~", date_from: datetime | str | None = None
    ) -> MessageSync: ...

    async def list_messages(self, ext: str = "~", **filters: Any) -> Sequence[MessageRecord]: ...


class Intake(Protocol):
    """The pipeline's entry point: persist a batch in one transaction (deduplicated by the store);
    how many were new."""

    async def accept_many(self, msgs: Sequence[InboundMessage]) -> int: ...


@dataclass(frozen=True)
class SyncReport:
    """What one extension's sync did."""

    extension_id: str
    sync_type: SyncType
    records: int  # records the platform returned (every kind, direction and change)
    inbound: int  # inbound SMS among them
    accepted: int  # new to the archive (the rest had been delivered already)
    fell_back: bool = False  # the stored token was refused: FSync instead


class CatchUp:
    """message-sync for one extension, its sync token persisted in the store's kv table."""

    def __init__(
        self,
        api: SyncApi,
        kv: KeyValue,
        intake: Intake,
        extension_id: str,
        *,
        policy: CatchUpPolicy | None = None,
        clock: Clock = SYSTEM,
    ) -> None:
        """``clock``: the wall time of the sync frame (the platform's store runs on it)."""
        self.api = api
        self.kv = kv
        self.intake = intake
        self.extension_id = extension_id
        self.policy = policy or CatchUpPolicy()
        self.clock = clock
        self.started = clock.now()  # texts before this, found by the first sync ever, get no reply

    def __repr__(self) -> str:
        return f"CatchUp(ext={self.extension_id})"

    @property
    def token_key(self) -> str:
        return TOKEN_KEY.format(ext=self.extension_id)

    async def run_once(self) -> SyncReport:
        """One sync: ISync from the stored token, else (or when it is refused) an FSync."""
        token = await self.kv.kv_get(self.token_key)
        first_ever = not token
        result, fell_back = None, False
        if token:
            try:
                result = await self.api.message_sync(token, self.extension_id)
            except PlatformError as exc:
                if exc.status != 400:  # MSG-333 and any other 400: the same token can never succeed
                    raise
                log.warning(
                    "ext %s: sync token refused (%s); full sync instead",
                    self.extension_id,
                    exc.error_code,
                    extra={"action": "catchup.fallback"},
                )
                fell_back = True
        if result is None:
            frame_start = await self._frame_start(fallback=fell_back)
            result = await self.api.message_sync(None, self.extension_id, date_from=frame_start)
            result = result.model_copy(update={"records": await self._complete(result, frame_start)})
        report = await self._ingest(result, fell_back, first_ever=first_ever)
        await self._save(result)
        return report

    async def _frame_start(self, *, fallback: bool) -> datetime:
        now = self.clock.now()
        last = await self.kv.kv_get(SYNCED_KEY.format(ext=self.extension_id)) if fallback else None
        synced = maybe_time(last)
        if synced is None:
            return now - self.policy.lookback
        return max(synced - self.policy.overlap, now - self.policy.fallback_limit)

    async def _complete(self, result: MessageSync, frame_start: datetime) -> tuple[MessageRecord, ...]:
        """FSync records, plus (when the platform capped them: ``olderRecordsExist``) the rest of
        the frame's inbound SMS from the paged message store."""
        records = result.records
        if not result.sync_info.older_records_exist:
            return records
        times = [r.creation_time for r in records if r.creation_time is not None]
        oldest = min(times, default=self.clock.now())
        log.warning(
            "ext %s: the full sync was capped at %d records; reading older ones from the message store",
            self.extension_id,
            len(records),
            extra={"action": "catchup.older"},
        )
        older = await self.api.list_messages(
            self.extension_id, messageType="SMS", direction="Inbound", dateFrom=frame_start, dateTo=oldest
        )
        return records + tuple(older)

    async def _ingest(self, result: MessageSync, fell_back: bool, *, first_ever: bool = False) -> SyncReport:
        sync_type: SyncType = "ISync" if result.sync_info.sync_type == "ISync" else "FSync"
        stamp = result.sync_info.sync_time or self.clock.now().isoformat()
        account_id, extension_id = self._ids(result)
        records = result.records
        inbound = [r for r in records if _is_inbound_sms(r)]
        progress = Progress(self.extension_id, len(inbound), self.clock)
        accepted = 0
        for start in range(0, len(inbound), BATCH):
            batch = inbound[start : start + BATCH]
            msgs = [
                msg
                for record in batch
                if (msg := self._message(record, extension_id, account_id, stamp, first_ever)) is not None
            ]
            accepted += await self.intake.accept_many(msgs)
            progress.advance(len(batch))
        progress.finish(sync_type, accepted)
        return SyncReport(self.extension_id, sync_type, len(records), len(inbound), accepted, fell_back)

    def _message(
        self, record: MessageRecord, extension_id: str, account_id: str, stamp: str, first_ever: bool
    ) -> InboundMessage | None:
        try:
            early = first_ever and _before(record, self.started)
            return InboundMessage.from_record(
                record.raw, extension_id, account_id, timestamp=stamp, before_first_start=early
            )
        except ValueError as exc:
            log.warning("ext %s: skipped an unreadable record: %s", self.extension_id, exc)
            return None

    def _ids(self, result: MessageSync) -> tuple[str, str]:
        """(account id, extension id): real ids from the answer's ``uri`` (``~`` resolved)."""
        match = _IDS.search(result.uri or "")
        if match is None:
            return "", self.extension_id
        return match.group(1), match.group(2)

    async def _save(self, result: MessageSync) -> None:
        token, sync_time = result.sync_info.sync_token, result.sync_info.sync_time
        if token:
            await self.kv.kv_put(self.token_key, token)
        if sync_time:
            await self.kv.kv_put(SYNCED_KEY.format(ext=self.extension_id), sync_time)


def _is_inbound_sms(record: MessageRecord) -> bool:
    return record.direction == "Inbound" and record.type == "SMS" and record.availability in (None, "Alive")


def _before(record: MessageRecord, moment: datetime) -> bool:
    """Created before ``moment`` (a record without a readable time counts as before)."""
    return record.creation_time is None or record.creation_time < moment


class CatchUpLoop:
    """Runs every extension's :class:`CatchUp` on the triggers (module docstring) until ``stop``."""

    def __init__(
        self,
        catchups: Sequence[CatchUp],
        board: StatusBoard,
        *,
        policy: CatchUpPolicy | None = None,
        clock: Clock = SYSTEM,
        backlog: Backlog | None = None,  # None: a large catch-up's handling is not followed
    ) -> None:
        self.catchups = list(catchups)
        self.following = Following(backlog, clock)
        self.clock = clock  # the periodic round and the retries wait on it
        self.board = board
        self.policy = policy or CatchUpPolicy()
        self.reports: deque[SyncReport] = deque(maxlen=100)  # the latest, oldest first
        self.changes = Changes()  # notified after every round
        self._lock = asyncio.Lock()
        self._disk_full = False  # the last round failed because the store's disk is full
        self.observer: Observer = NOBODY  # the metrics (each round: its trigger, outcome, texts found)

    @classmethod
    def for_extensions(
        cls,
        api: SyncApi,
        kv: KeyValue,
        intake: Intake,
        extension_ids: Sequence[str],
        board: StatusBoard,
        *,
        policy: CatchUpPolicy | None = None,
        clock: Clock = SYSTEM,
        backlog: Backlog | None = None,
    ) -> CatchUpLoop:
        policy = policy or CatchUpPolicy()
        catchups = [CatchUp(api, kv, intake, ext, policy=policy, clock=clock) for ext in extension_ids]
        return cls(catchups, board, policy=policy, clock=clock, backlog=backlog)

    async def catch_up(self, trigger: Trigger = "manual") -> bool:
        """One round over every extension (one at a time); ``True`` when every sync succeeded."""
        async with self._lock:
            ok, self._disk_full = True, False
            since, accepted = self.clock.now(), 0
            for catchup in self.catchups:
                try:
                    report = await catchup.run_once()
                    self.reports.append(report)
                    accepted += report.accepted
                except Exception as exc:  # one extension's failure must not stop the others
                    ok, self._disk_full = False, self._disk_full or isinstance(exc, StoreFull)
                    log.warning(
                        "ext %s: catch-up (%s) failed: %s",
                        catchup.extension_id,
                        trigger,
                        f"{type(exc).__name__}: {exc}",
                        extra={"action": "catchup.error"},
                    )
            self.following.round_archived(accepted, since)
            self.observer.caught_up(trigger, ok, accepted)
            self.changes.notify()
            return ok

    async def run(self, stop: asyncio.Event) -> None:
        async with self.following.during(stop):
            await self._run(stop)

    async def _run(self, stop: asyncio.Event) -> None:
        seen: int | None = None  # subscriptions_created at the last "subscribed" round
        covered = self.board.status.unstored  # refused notifications the last round started after
        failures = 0
        while not stop.is_set():
            wait = self.policy.interval if not failures else self._retry_delay(failures)
            # While a failed round waits for its retry, more refused notifications add nothing.
            unstored = None if failures else covered
            trigger = await self._next(stop, seen, unstored, at_most=min(wait, self.policy.interval))
            if trigger is None:
                return
            if trigger == "subscribed":
                seen = self.board.status.subscriptions_created
            elif failures:
                trigger = "retry"
            covered = self.board.status.unstored
            ok = await self._round_unless_stopped(trigger, stop)
            if ok is None:
                return
            failures = 0 if ok else failures + 1

    def _retry_delay(self, failures: int) -> float:
        """After a failed round: the policy's backoff, but at most the store's (30 s) when the disk
        was full, so the texts refused meanwhile are fetched soon after there is room again."""
        delay = self.policy.retry.delay(failures)
        return min(delay, ROUND_RETRY.delay(failures)) if self._disk_full else delay

    async def _round_unless_stopped(self, trigger: Trigger, stop: asyncio.Event) -> bool | None:
        """:meth:`catch_up`, abandoned (``None``) when ``stop`` is set first: shutdown stays prompt,
        and an abandoned sync is harmless (its token is saved only after every record was accepted)."""
        work = asyncio.create_task(self.catch_up(trigger), name="rcinbox.catchup.round")
        stopped = asyncio.create_task(stop.wait(), name="rcinbox.catchup.stop")
        try:
            await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (work, stopped):
                task.cancel()
            await asyncio.gather(work, stopped, return_exceptions=True)
        return None if work.cancelled() else work.result()

    async def _next(
        self, stop: asyncio.Event, seen: int | None, unstored: int | None, *, at_most: float
    ) -> Trigger | None:
        """Wait for ``stop`` (→ None), a new subscription (→ "subscribed"), a notification the
        transport could not store since ``unstored`` (→ "unstored") or ``at_most`` seconds."""

        def subscribed(status: TransportStatus) -> bool:
            return status.ready and (seen is None or status.subscriptions_created != seen)

        def refused(status: TransportStatus) -> bool:
            return unstored is not None and seen is not None and status.unstored != unstored

        if stop.is_set():
            return None
        if subscribed(self.board.status):
            return "subscribed"
        if refused(self.board.status):
            return "unstored"
        waiters = {
            asyncio.create_task(
                self.board.wait_until(lambda s: subscribed(s) or refused(s)), name="rcinbox.catchup.wait"
            ),
            asyncio.create_task(stop.wait(), name="rcinbox.catchup.stop"),
            asyncio.ensure_future(self.clock.sleep(at_most)),
        }
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*waiters, return_exceptions=True)
        if stop.is_set():
            return None
        if subscribed(self.board.status):
            return "subscribed"
        return "unstored" if refused(self.board.status) else "periodic"
