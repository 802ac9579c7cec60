"""The download worker: MMS attachments fetched on their own queue, never on the reply path.

The pipeline decides a message without waiting for its attachments: archiving it queues one
``pending`` row per attachment (:mod:`rcinbox.store.downloads`) and wakes this worker. The worker
fetches what is due, a few at a time (:attr:`DownloadOptions.concurrency`), each with
:class:`~rcinbox.service.attachments.AttachmentFetcher` (platform hosts only, size cap, SHA-256,
safe names; the bytes kept by the attachment storage, :mod:`rcinbox.service.attachment_storage`:
files, or the database), and records the outcome: ``stored`` or ``refused``. On a shared store
(replicas) it claims each download it starts (a lease, :mod:`rcinbox.store.downloads`): two
replicas never fetch the same one at once. A transient failure
(network, 5xx, 429, 401, 403, OAuth) is retried with backoff (a 429's ``Retry-After`` at least);
after :attr:`DownloadOptions.retry` ``attempts`` the download is parked visibly (``failed``, with
the reason: ``rcinbox messages`` shows it). It waits on events (a wake-up, the next retry, stop),
never by polling (replicas on a shared store also look every :attr:`DownloadOptions.sweep`
seconds: downloads a replica that died or stopped had queued are nobody else's event); pending
downloads left by a stop or a crash are simply still due at the next start.

Downloads share RingCentral's Medium budget with the replies (``/content/`` and ``/sms`` are both
Medium). So that a reply never queues behind them, :class:`BudgetShare` lets a download start only
while the pacer would send it at once *and* the group's requests counted in the window (replies
and other clients' included) stay under :attr:`DownloadOptions.share` of the limit (half by
default): the rest of the budget is the replies', and downloads never wait inside the pacer where
they would compete with a reply for the next slot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from rcinbox.errors import RateLimited, StoreFull
from rcinbox.platform.pacing import Group, Pacer
from rcinbox.platform.retry import RetryPolicy
from rcinbox.service.attachment_storage import Storage
from rcinbox.service.attachments import DEFAULT_MAX_BYTES, AttachmentFetcher, Downloader
from rcinbox.store import PendingDownload, Store
from rcinbox.store.downloads import DEFAULT_LEASE
from rcinbox.waiting import SWEEP, Changes, run_rounds, seconds_until

log = logging.getLogger("rcinbox.pipeline")

DOWNLOAD_RETRY = RetryPolicy(attempts=8, base_delay=5.0, multiplier=3.0, max_delay=3600.0)
INF = float("inf")


@dataclass(frozen=True)
class DownloadOptions:
    retry: RetryPolicy = DOWNLOAD_RETRY  # attempts = how many failures park a download
    concurrency: int = 4  # downloads in flight at once
    share: float = 0.5  # of the Medium budget, at most (the rest is the replies')
    max_bytes: int = DEFAULT_MAX_BYTES
    lease: timedelta = DEFAULT_LEASE  # replicas: how long a claimed download is another's to skip
    sweep: float = SWEEP  # replicas: look for due downloads at least this often (a gone one's queued)

    def __post_init__(self) -> None:
        if self.concurrency < 1 or not 0 < self.share <= 1:
            raise ValueError(f"invalid download options: {self}")


class BudgetShare:
    """Lets a download start only while the pacer has room for it at once and the group's counted
    requests stay under ``share`` of its limit (module docstring). ``pacer`` ``None``: no limit."""

    def __init__(self, pacer: Pacer | None, share: float, group: Group = "Medium") -> None:
        self.pacer = pacer
        self.share = share
        self.group = group

    def delay(self, in_flight: int = 0) -> float:
        """Seconds before a download may start (0: now; ``inf``: until something changes), with
        ``in_flight`` downloads of ours running: they count even before the pacer booked them
        (a started task books when it first runs), so the share errs on the replies' side."""
        pacer = self.pacer
        if pacer is None:
            return 0.0
        wait = pacer.wait_time(self.group)
        if wait > 0:
            return wait
        st = pacer.state(self.group)
        now = pacer.clock.monotonic()
        used = st.used(now) + in_flight
        if used == 0 or used + 1 < st.limit * self.share:
            return 0.0
        return max(st.next_expiry() - now, 0.001)  # inf: every counted one is still in flight

    async def enter(self, stop: asyncio.Event | None, in_flight: Callable[[], int] = lambda: 0) -> bool:
        """Wait for room (``in_flight()``: our downloads still running); ``False`` when ``stop``
        was set first."""
        stops = () if stop is None else (stop,)
        while (delay := self.delay(in_flight())) > 0:
            assert self.pacer is not None
            changed = self.pacer.changed()
            if stop is not None and stop.is_set():
                return False
            await self.pacer.clock.wait(changed, *stops, at_most=None if delay == INF else delay)
        return stop is None or not stop.is_set()


class Downloads:
    """The worker: :meth:`run` until stopped; :meth:`wake` when downloads were queued."""

    def __init__(
        self,
        store: Store,
        client: Downloader,
        data_dir: Path,
        *,
        pacer: Pacer | None = None,  # the platform client's: downloads take their share of it
        options: DownloadOptions | None = None,
        storage: Storage | None = None,  # where the bytes go (default: files under data_dir)
    ) -> None:
        self.store = store
        self.options = options or DownloadOptions()
        self.clock = store.clock
        self.fetcher = AttachmentFetcher(client, data_dir, max_bytes=self.options.max_bytes, storage=storage)
        # replicas claim what they fetch (rcinbox.store.downloads); a process alone just reads
        self.lease: timedelta | None = self.options.lease if store.shared else None
        self.claimant: str | None = None  # the replica's heartbeat id (set by the service)
        self.budget = BudgetShare(pacer, self.options.share)
        self._wake = asyncio.Event()
        self.changes = Changes()  # notified after every recorded outcome or failed attempt

    def __repr__(self) -> str:
        return f"Downloads({self.store!r})"

    def wake(self) -> None:
        """Downloads were queued: fetch them now."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch pending downloads until ``stop`` is set (event-driven; a shared store's sweep aside)."""
        sweep = self.options.sweep if self.store.shared else None
        await run_rounds(
            "downloads", log, lambda: self._round(stop), self._wake, stop, self.clock, sweep=sweep
        )

    async def _round(self, stop: asyncio.Event) -> float | None:
        await self.drain(stop)
        return seconds_until(await self.store.downloads.next_due(), self.clock.now())

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Fetch every download due now (each at most once), ``concurrency`` at a time; returns how
        many were attempted. A failing store (a full disk) ends the round with its error."""
        running: set[asyncio.Task[None]] = set()

        def in_flight() -> int:  # ours still running (a finished one is in the pacer's count)
            return sum(not task.done() for task in running)

        after, attempted = 0, 0  # the queue is read in row order: rows after ``after`` are new
        try:
            while True:
                room = self.options.concurrency - len(running)
                due = await self._due(room, after) if room > 0 else []
                for item in due:
                    if not await self.budget.enter(stop, in_flight):
                        break
                    after, attempted = item.id, attempted + 1
                    running.add(asyncio.create_task(self._download(item), name=f"rcinbox.download.{item.id}"))
                if not running or (stop is not None and stop.is_set()):
                    break
                finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                running -= finished
                for task in finished:
                    task.result()  # the store itself failed (a full disk): the round is retried
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        return attempted

    async def _due(self, room: int, after: int) -> list[PendingDownload]:
        return await self.store.downloads.due(room, after=after, lease=self.lease, claimant=self.claimant)

    async def _download(self, item: PendingDownload) -> None:
        try:
            record = await self.fetcher.fetch(item)
        except StoreFull:
            raise
        except Exception as exc:  # top of one download: record, back off, carry on with the others
            await self._failed(item, exc)
        else:
            await self.store.downloads.finish(item.id, record)
            if record.state == "stored":  # a refusal was logged by the fetcher, with its reason
                log.info(
                    "attachment %s of message %s stored (%s bytes)",
                    item.ref.id[:64],
                    item.message_id,
                    record.size,
                    extra={"action": "attachment.stored"},
                )
        finally:
            self.changes.notify()

    async def _failed(self, item: PendingDownload, exc: Exception) -> None:
        attempt = item.attempts + 1
        error = f"{type(exc).__name__}: {exc}"
        what = f"attachment {item.ref.id[:64]} of message {item.message_id}"
        if attempt >= self.options.retry.attempts:
            reason = f"gave up after {attempt} attempts: {error}"
            await self.store.downloads.failed(item.id, reason, None)
            log.error("%s parked: %s", what, reason, extra={"action": "attachment.parked"})
            return
        delay = self.options.retry.delay(attempt)
        if isinstance(exc, RateLimited):
            delay = max(delay, exc.retry_after)
        await self.store.downloads.failed(item.id, error, self.clock.now() + timedelta(seconds=delay))
        log.warning(
            "%s: attempt %d failed (%s); retrying in %.0fs",
            what,
            attempt,
            error,
            delay,
            extra={"action": "attachment.retry"},
        )
