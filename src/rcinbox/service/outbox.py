"""Outbox: the durable reply sender — exactly one reply per decision, even across a crash.

Every send is claimed first: the row goes ``queued`` → ``sending`` in a transaction committed
*before* the platform is called, then ``sent`` (with the platform's message id) or
``failed``. When the outcome of a send is unknown — the process died between the API call and
the commit, or the call ended in a network error / 5xx / timeout — the row stays ``sending`` and,
before it is sent again, it is *reconciled* against the platform's message store: an outbound
SMS from the same number to the same counterpart with the same text, created after the claim,
whose id is not already recorded, means it did go out (→ ``sent``); otherwise it is sent.

Errors (typed, from :mod:`rcinbox.errors`): a 4xx refusal (``MSG-243`` blocked/opted-out number,
``MSG-304``, ``CMN-101`` …) fails the row for good; 429 waits ``Retry-After``; 5xx, 408, network
errors, 401 and OAuth failures are retried with backoff until ``retry.attempts`` attempts (a
final failure is recorded). Giving up, the row is reconciled once more: found in the message
store → ``sent``; not found after a last attempt whose outcome is unknown (5xx, timeout, network)
→ ``unknown``, which the replies ledger still counts (repeat interval, loop fuse), so the
sender's next text gets no second reply; otherwise ``failed``.

Right before each send the row is checked again against the current rules and its age (a retry
can push a reply hours past its decision) by :func:`rcinbox.rules.recheck.recheck`, the same rules
:func:`~rcinbox.rules.decide.decide` applies (those of the extension that received the text). It
fails, with the reason first in ``last_error``
(``rcinbox messages`` shows it), when: the counterpart opted out after it was queued
(``opted-out``); it was queued longer ago than ``safety.max_age`` (``expired``); the vacation was
switched off (``vacation-off``) or ``now`` is outside the window (``outside-window``); the
counterpart is on the blocklist now (``blocklisted``).

An escalation row (``kind`` escalation: a short SMS about an urgent text, to the rules'
``smart.escalate.to``) is sent exactly like a reply (claim, pacing, reconciliation, an unknown
outcome never resent) and counts in the ledger as an automated text to the escalation number.
Right before it is sent it is failed when the escalation number has opted out (``opted-out``) or
the vacation is off or its window closed (``vacation-off``, ``outside-window``).

Several rows are in flight at once (:mod:`rcinbox.service.outbox_flights`): up to
:data:`~rcinbox.service.outbox_flights.SENDS_IN_FLIGHT` per extension, one at a time per
counterpart, each paced by its extension's client within that user's rate-limit budget; a row is
claimed before it flies and is in flight at most once, so none is ever sent twice. The loop starts
the sends that may go (due rows, up to ``batch`` at a time, leaving out what is in flight), then
waits for a new row, a send that ended, the next retry or ``stop``.

Each row is sent by the client allowed to send for its extension (:class:`~rcinbox.service.senders.Senders`:
the main client for the JWT user's own extension, the extension's sender credential for another
user's); a row whose extension has none fails at once (``failed: no-sender-credential``) instead of
earning a 403 from the platform.

Replicas (a shared store): each claim carries the replica's heartbeat id (:attr:`Outbox.claimant`),
and :attr:`Outbox.fence` (:meth:`rcinbox.service.membership.Membership.fence`) is checked right
before the SMS is written, after the pacer's wait: a replica frozen long enough for another one to
end its claim and take the reply over abandons its send (:class:`~rcinbox.errors.ClaimLost`, one
log line) and leaves the row to the other. Alone (SQLite) there is no fence and no such cost.
A reply a replica queued but had not claimed when it died or stopped wakes nobody else: each
outbox on a shared store also looks for due rows every :attr:`OutboxOptions.sweep` seconds.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rcinbox.dashboard.live import Activity, Notice, ignore
from rcinbox.errors import (
    AuthError,
    ClaimLost,
    PlatformError,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
)
from rcinbox.observe import NOBODY, Observer
from rcinbox.platform.retry import Fence, RetryPolicy
from rcinbox.rules.config import Rules
from rcinbox.rules.recheck import QueuedEscalation, QueuedReply, recheck, recheck_escalation
from rcinbox.service.outbox_flights import SENDS_IN_FLIGHT, Flights
from rcinbox.service.senders import NO_SENDER, SenderClient, Senders
from rcinbox.store import Claim, OutboxRow, Store
from rcinbox.store.outbox_queue import DEFAULT_LEASE
from rcinbox.timestamps import rc_time
from rcinbox.waiting import SWEEP, Changes, run_rounds, seconds_until
from rcinbox.wire import MessageRecord

log = logging.getLogger("rcinbox.pipeline")

SEND_RETRY = RetryPolicy(attempts=6, base_delay=5.0, multiplier=3.0, max_delay=1800.0)
_RETRYABLE = (ServerError, TransportError, Unauthorized, AuthError)  # not the reply's fault
_REFUSED_BEFORE_SENDING = (RateLimited, Unauthorized, AuthError)  # the platform did not take it


@dataclass(frozen=True)
class OutboxOptions:
    retry: RetryPolicy = SEND_RETRY
    reconcile_margin: timedelta = timedelta(minutes=5)  # clock skew allowance for the store search
    lease: timedelta = DEFAULT_LEASE  # a claimed row is someone else's to retry after this
    # Reconcile the rows left ``sending`` at start (and after a store failure): the only sender's
    # rows in flight are its own orphans. None: only on a store of its own (a shared store's rows in
    # flight may be another live replica's sends: a dead one's become due when their lease ends).
    recover_at_start: bool | None = None
    batch: int = 50  # due rows read at a time
    in_flight: int = SENDS_IN_FLIGHT  # sends in flight per extension
    # Replicas (a shared store): look for due rows at least this often, so replies a replica that
    # died or stopped had queued but not claimed are sent by the others (one process: by events).
    sweep: float = SWEEP


class Outbox:
    def __init__(
        self,
        store: Store,
        client: SenderClient,
        *,
        options: OutboxOptions | None = None,
        senders: Senders | None = None,
        rules: Callable[[], Rules] | None = None,  # the current rules (None: no re-check)
    ) -> None:
        self.store = store
        self.rules = rules
        self.client = client  # sends for every extension, or only for ``senders.own``
        self.senders = senders
        self.options = options or OutboxOptions()
        self.clock = store.clock  # one clock: the store compares due times with it
        self._wake = asyncio.Event()
        self._recover = False  # reconcile the rows left in flight before the next round
        recovers = self.options.recover_at_start
        self.recovers = not store.shared if recovers is None else recovers
        self.claimant: str | None = None  # replicas: this one's heartbeat id, kept on its claims
        self.fence: Callable[[int], Fence] | None = None  # replicas: is a row's claim still ours?
        self.changes = Changes()  # notified after every delivery attempt
        self.notice: Notice = ignore  # the dashboard's live feed (Publisher.publish: never blocks)
        self.observer: Observer = NOBODY  # the metrics: how each row ended
        self.flights = Flights(self.options.in_flight, landed=self._wake.set)

    def __repr__(self) -> str:
        return f"Outbox({self.store!r})"

    def wake(self) -> None:
        """New rows were queued: send them now."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Reconcile what a previous run left in flight, then send until ``stop`` is set; the
        sends in flight then end (a wait for the rate limits is cut short by the service)."""
        self._recover = self.recovers
        try:
            sweep = self.options.sweep if self.store.shared else None
            await run_rounds(
                "outbox", log, lambda: self._round(stop), self._wake, stop, self.clock, sweep=sweep
            )
        except asyncio.CancelledError:  # another loop of the service failed: stop at once
            self.flights.cancel()
            raise
        finally:
            await self.flights.settle()

    async def _round(self, stop: asyncio.Event) -> float | None:
        try:
            failure = self.flights.take_failure()
            if failure is not None:  # a send's store write failed: the loop logs it and backs off
                raise failure
            if self._recover:
                await self._recover_in_flight()
                self._recover = False
            # Due rows left waiting (their counterpart or extension busy) are looked at again
            # when a send ends; rows due later, at their time.
            return seconds_until(await self._start_due(stop), self.clock.now())
        except Exception:
            # The store failed (a full disk): a claimed row may be in flight (sent, but not
            # recorded); the only sender reconciles it at once when the store works again.
            self._recover = self.recovers
            raise

    async def _recover_in_flight(self) -> None:
        recovered = await self.store.outbox.recover_in_flight()
        if recovered:
            log.warning("%d reply(ies) were left in flight: reconciling", recovered)

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Deliver every row that is due now, each at most once, until none is left (or ``stop``
        is set) and no send is in flight; returns how many rows were handled."""
        seen: set[int] = set()
        while True:
            await self._start_due(stop, seen)
            if not self.flights:
                break
            await self.flights.any_landed()
            failure = self.flights.take_failure()
            if failure is not None:
                raise failure
        return len(seen)

    async def _start_due(self, stop: asyncio.Event | None, seen: set[int] | None = None) -> datetime | None:
        """Start every due row that may fly now (and is not in ``seen``, which gets the ones
        started); when the next row is due after now."""
        done_before = seen if seen is not None else set()
        later = None
        while stop is None or not stop.is_set():
            busy = self.flights.busy()
            rows, later = await self.store.outbox.due_and_next(
                self.options.batch, busy.ids | done_before, busy.extensions, busy.counterparts
            )
            chosen = self.flights.choose(rows)
            ids = [row.id for row in chosen]
            claims = await self.store.outbox.claim_many(ids, self.options.lease, self.claimant)
            for claim in claims:
                self.flights.start(claim.row, functools.partial(self._see_through, claim))
            done_before.update(row.id for row in chosen)
            if not chosen or len(rows) < self.options.batch:
                break
        return later

    async def deliver(self, row_id: int) -> None:
        """Claim one row and see it through: reconcile if needed, check consent, send."""
        claim = await self.store.outbox.claim(row_id, self.options.lease, self.claimant)
        if claim is not None:
            await self._see_through(claim)

    async def _see_through(self, claim: Claim) -> None:
        try:
            await self._deliver(claim)
        finally:
            self.changes.notify()

    def sender_for(self, extension_id: str) -> SenderClient | None:
        """The client that may send for ``extension_id`` (``None``: no credential can)."""
        if self.senders is None or extension_id == self.senders.own:
            return self.client
        return self.senders.others.get(extension_id)

    async def _deliver(self, claim: Claim) -> None:
        row = claim.row
        client = self.sender_for(row.extension_id)
        if client is None:
            why = f"{NO_SENDER}: no credential may send for extension {row.extension_id}"
            await self._fail(row, why, NO_SENDER)
            return
        try:
            if claim.reconcile:
                found = await self.find_sent(row, client)
                if found is not None:
                    await self._sent(row, found, "reconciled")
                    return
            # Consent as read with the claim, a moment ago; again after a reconciliation's lookup.
            stale = await self.no_longer_wanted(row, None if claim.reconcile else claim.opted_out)
            if stale is not None:
                await self._fail(row, stale, "recheck")
                return
            sent = await self._send(client, row)
        except ClaimLost as exc:  # another replica has the row now: not ours to touch
            log.warning(
                "%s %d to %s not sent here: %s",
                row.kind,
                row.id,
                row.to_number,
                exc,
                extra={"action": "outbox.claim-lost"},
            )
            return
        except RateLimited as exc:
            await self._retry(row, exc, max(exc.retry_after, self.options.retry.delay(row.attempts)))
        except _RETRYABLE as exc:
            await self._retry(row, exc, self.options.retry.delay(row.attempts))
        except PlatformError as exc:
            await self._fail(row, f"refused: HTTP {exc.status} {exc.error_code}: {exc.message}", "refused")
        except Exception as exc:  # unexpected (bug, bad response): keep the row, try again later
            log.exception("outbox row %d: unexpected error", row.id, extra={"action": "outbox.error"})
            await self._retry(row, exc, self.options.retry.delay(row.attempts))
        else:
            await self._sent(row, sent.id or "", "sent")

    async def _send(self, client: SenderClient, row: OutboxRow) -> MessageRecord:
        args = (row.from_number, row.to_number, row.text, row.extension_id)
        if self.fence is None:
            return await client.send_sms(*args)
        return await client.send_sms(*args, fence=self.fence(row.id))

    async def find_sent(self, row: OutboxRow, client: SenderClient | None = None) -> str | None:
        """The platform id of an SMS this row already produced, if the message store has one."""
        since = (row.claimed_at or row.queued_at) - self.options.reconcile_margin
        records = await (client or self.client).list_messages(
            row.extension_id, direction="Outbound", messageType="SMS", dateFrom=rc_time(since)
        )
        candidates = [r for r in records if _same_text(r, row)]
        if not candidates:
            return None
        known = await self.store.outbox.known_platform_ids([str(r.id) for r in candidates])
        fresh = [r for r in candidates if str(r.id) not in known]
        if not fresh:
            return None
        claimed = row.claimed_at or row.queued_at
        return str(min(fresh, key=lambda r: _distance(r, claimed)).id)

    async def no_longer_wanted(self, row: OutboxRow, opted_out: bool | None = None) -> str | None:
        """Why the counterpart's consent, the current rules or the row's age forbid sending it now
        (``None``: send). ``opted_out``: the consent just read (``None``: read it now)."""
        if opted_out is None:
            opted_out = await self.store.opted_out(row.to_number)
        now = self.clock.now()
        rules = self.rules().for_extension(row.extension_id) if self.rules is not None else None
        if row.kind == "escalation":
            return recheck_escalation(
                QueuedEscalation(row.to_number, now - row.queued_at, now, opted_out), rules
            )
        queued = QueuedReply(row.to_number, now - row.queued_at, now, opted_out)
        return recheck(queued, rules)

    async def _sent(self, row: OutboxRow, platform_id: str, how: str) -> None:
        await self.store.outbox.mark_sent(row.id, platform_id)
        self.observer.finished(row.kind, "sent", how)
        self.notice(
            Activity("answered", row.extension_id, self.clock.now(), row.to_number, row.text, row.kind)
        )
        log.info(
            "%s %d to %s %s (platform id %s)",
            row.kind,
            row.id,
            row.to_number,
            how,
            platform_id,
            extra={"action": f"outbox.{how}"},
        )

    async def _fail(self, row: OutboxRow, reason: str, cause: str) -> None:
        await self.store.outbox.mark_failed(row.id, reason)
        self.observer.finished(row.kind, "failed", cause)
        log.warning(
            "%s %d to %s failed: %s",
            row.kind,
            row.id,
            row.to_number,
            reason,
            extra={"action": "outbox.failed"},
        )

    async def _retry(self, row: OutboxRow, exc: Exception, delay: float) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if row.attempts >= self.options.retry.attempts:
            await self._give_up(row, exc, error)
            return
        await self.store.outbox.retry_later(row.id, error, self.clock.now() + timedelta(seconds=delay))
        log.warning(
            "%s %d to %s: attempt %d failed (%s); retrying in %.0fs",
            row.kind,
            row.id,
            row.to_number,
            row.attempts,
            error,
            delay,
            extra={"action": "outbox.retry"},
        )

    async def _give_up(self, row: OutboxRow, exc: Exception, error: str) -> None:
        """The last attempt failed: reconcile once more; an unknown outcome stays in the ledger."""
        try:
            found = await self.find_sent(row, self.sender_for(row.extension_id))
        except Exception as lookup:  # cannot tell: the last attempt may have gone out
            found, error = None, f"{error}; reconciling failed: {type(lookup).__name__}"
        if found is not None:
            await self._sent(row, found, "reconciled")
            return
        reason = f"gave up after {row.attempts} attempts: {error}"
        if isinstance(exc, _REFUSED_BEFORE_SENDING) or (isinstance(exc, TransportError) and not exc.sent):
            await self._fail(row, reason, "gave-up")
            return
        await self.store.outbox.mark_unknown(row.id, f"outcome unknown: {reason}")
        self.observer.finished(row.kind, "unknown", "gave-up")
        log.warning(
            "%s %d to %s: %s; its outcome is unknown (counted as sent)",
            row.kind,
            row.id,
            row.to_number,
            reason,
            extra={"action": "outbox.unknown"},
        )


def _same_text(record: MessageRecord, row: OutboxRow) -> bool:
    """An outbound SMS from the row's number to its counterpart with exactly its text."""
    return (
        record.direction in (None, "Outbound")
        and record.id is not None
        and record.from_ is not None
        and record.from_.phone_number == row.from_number
        and any(r.phone_number == row.to_number for r in record.to)
        and record.subject == row.text
    )


def _distance(record: MessageRecord, claimed: datetime) -> tuple[bool, float]:
    """Preference among matches: created after the claim first (soonest), then the latest before."""
    if record.creation_time is None:  # no/odd creationTime: least preferred
        return True, float("inf")
    seconds = (record.creation_time - claimed).total_seconds()
    return seconds < 0, abs(seconds)
