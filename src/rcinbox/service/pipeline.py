"""Pipeline: accept (persist, then the transport acknowledges) and process from the store.

:meth:`Pipeline.accept` inserts the message (deduplicated by the database) and wakes the
worker; transports acknowledge only after it returned. :meth:`Pipeline.run` is the worker: at
start it processes everything still pending (crash recovery), then waits for a wake-up, the
next scheduled retry or ``stop`` (replicas on a shared store also look every ``sweep`` seconds:
a replica that died leaves the texts it accepted to the others). It decides up to
``concurrency`` messages at once, one after another per sender (:mod:`rcinbox.service.lanes`).
A message is parsed once, at the edge: the worker rebuilds it from the store's columns
(:meth:`~rcinbox.store.StoredMessage.inbound`, the announced attachments included) and never
re-reads ``raw``, which is kept for the archive. Each message goes through idempotent steps:

1. ``received`` → ``archived``: a message with MMS attachments gets a pending download per
   attachment in the same transaction (:meth:`DownloadQueue.archive
   <rcinbox.store.downloads.DownloadQueue.archive>`) and the download worker is woken
   (:mod:`rcinbox.service.downloads`); the decision never waits for the files (a message without
   attachments goes straight on);
2. gather :class:`~rcinbox.rules.decide.Facts` (owner/company numbers, address book, and from the
   store in one statement — :meth:`Store.decision_facts` — opt-out state, the last reply per handle
   and the last escalation about the sender from this extension, a reply to this message, the
   automated texts from every extension for the loop fuse; what the text asks by the rules' classifier
   (:class:`~rcinbox.service.understanding.Understanding`), whether a credential may send for the
   extension — :class:`~rcinbox.service.senders.Senders`) and :func:`~rcinbox.rules.decide.decide`
   with the rules of the message's extension (:meth:`Rules.for_extension
   <rcinbox.rules.config.Rules.for_extension>`);
   Replicas decide a sender's texts one at a time across processes too (the sender's turn,
   :mod:`rcinbox.store.sender_turns`, held from the facts to the committed conclusion).
3. one transaction (:meth:`Store.conclude`, shared with concurrent decisions): the decision
   record (with the intent, confidence, backend and reply kind), the opt-out/opt-in (with the words
   and, for a fuzzy opt-out, the confidence), the outbox reply and escalation → ``decided``
   (pending) or ``done``; the outbox is woken.

A failing step records ``last_error`` and is retried with backoff without holding up other
messages; after ``max attempts`` the message is parked visibly (state ``failed``). A full disk
(:class:`~rcinbox.errors.StoreFull`) is not the message's failure: no attempt is counted, the
round stops and the worker tries again with backoff until there is room.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from rcinbox.dashboard.live import Activity, Notice, ignore
from rcinbox.errors import RateLimited, StoreFull
from rcinbox.events import InboundMessage
from rcinbox.numbers import same_key
from rcinbox.observe import NOBODY, Observer
from rcinbox.platform.retry import RetryPolicy
from rcinbox.rules.config import Rules
from rcinbox.rules.decide import Facts, decide
from rcinbox.service.attachments import Downloader
from rcinbox.service.decision_record import decision_record
from rcinbox.service.downloads import Downloads
from rcinbox.service.lanes import drain_lanes
from rcinbox.service.own_numbers import NumberBook, NumberSource
from rcinbox.service.understanding import Understanding
from rcinbox.store import Store, StoredMessage
from rcinbox.store.records import PENDING_STATES
from rcinbox.waiting import SWEEP, Changes, run_rounds, seconds_until

log = logging.getLogger("rcinbox.pipeline")

CROWD = 4  # deliveries waiting to be stored at once: decisions go one at a time meanwhile
PROCESSING_RETRY = RetryPolicy(attempts=8, base_delay=5.0, multiplier=3.0, max_delay=3600.0)


class PipelineClient(Downloader, NumberSource, Protocol):
    """What the pipeline needs from :class:`~rcinbox.platform.client.PlatformClient`."""


class ContactInfo(Protocol):
    @property
    def first_name(self) -> str | None: ...

    @property
    def last_name(self) -> str | None: ...


class ContactSource(Protocol):
    """An extension's address book (:class:`rcinbox.service.contacts.ContactBook`)."""

    async def refresh_if_older_than(self, seconds: float) -> bool: ...

    def lookup(self, number: str) -> ContactInfo | None: ...


class Wakeable(Protocol):
    def wake(self) -> None: ...


class SendingRights(Protocol):
    """Which extensions rcinbox may send replies for (:class:`rcinbox.service.senders.Senders`)."""

    def can_send(self, extension_id: str) -> bool: ...


@dataclass(frozen=True)
class PipelineOptions:
    retry: RetryPolicy = PROCESSING_RETRY  # attempts = how many failures park a message
    contacts_max_age: timedelta | None = timedelta(minutes=1)  # None: load once, never refresh
    batch: int = 50  # messages read at a time
    concurrency: int = 16  # messages decided at once (one at a time per sender)
    company_numbers: frozenset[str] = field(default_factory=frozenset)
    # Replicas (a shared store): look for due messages at least this often, so texts a replica
    # that died had accepted but not decided are taken up by the others (one process: by events).
    sweep: float = SWEEP


class Pipeline:
    def __init__(
        self,
        store: Store,
        client: PipelineClient,
        rules: Callable[[], Rules],
        contact_books: Mapping[str, ContactSource],
        data_dir: Path,
        *,
        outbox: Wakeable | None = None,
        options: PipelineOptions | None = None,
        senders: SendingRights | None = None,  # None: every extension can be answered
        understanding: Understanding | None = None,  # None: texts are not classified
        downloads: Downloads | None = None,  # None: a worker of its own (not run: tests drain it)
    ) -> None:
        self.understanding = understanding
        self.store = store
        self.senders = senders
        self.rules = rules
        self.contact_books = contact_books
        self.outbox = outbox
        self.options = options or PipelineOptions()
        self.clock = store.clock  # one clock: the store compares due times with it
        self.downloads = downloads or Downloads(store, client, data_dir)
        self.numbers = NumberBook(client, list(contact_books), self.clock, self.options.company_numbers)
        self._wake = asyncio.Event()
        self.changes = Changes()  # notified after every accept and processing step
        self.notice: Notice = ignore  # the dashboard's live feed (Publisher.publish: never blocks)
        self.observer: Observer = NOBODY  # the metrics: texts received, decisions

    def __repr__(self) -> str:
        return f"Pipeline({self.store!r})"

    async def accept(self, msg: InboundMessage) -> bool:
        """Persist ``msg`` (dedupe by constraint) and wake the worker; ``True`` if it was new."""
        new = await self.store.accept(msg)
        _log_accepted(msg, new, duplicate=logging.INFO)  # a duplicate delivery is worth one at INFO
        self.observer.received(msg.source, new)
        if new:
            self._wake.set()
            self.changes.notify()
            self.notice(
                Activity("received", msg.extension_id, self.clock.now(), msg.sender.phone_number, msg.text)
            )
        return new

    async def accept_many(self, msgs: Sequence[InboundMessage]) -> int:
        """Persist a batch in one transaction (a catch-up), wake the worker; how many were new."""
        new = await self.store.accept_many(msgs)
        for msg, fresh in zip(msgs, new, strict=True):
            _log_accepted(msg, fresh, duplicate=logging.DEBUG)  # a catch-up finds many it had
            self.observer.received(msg.source, fresh)
        count = sum(new)
        if count:
            self._wake.set()
            self.changes.notify()
            self.notice(
                Activity("caught-up", msgs[0].extension_id, self.clock.now(), detail=f"{count} text(s)")
            )
        return count

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Process pending messages until ``stop`` is set (event-driven, no polling)."""
        sweep = self.options.sweep if self.store.shared else None
        await run_rounds(
            "pipeline", log, lambda: self._round(stop), self._wake, stop, self.clock, sweep=sweep
        )

    async def _round(self, stop: asyncio.Event) -> float | None:
        await self.drain(stop, arrivals=self._wake)
        return seconds_until(await self.store.next_message_due(), self.clock.now())

    async def drain(self, stop: asyncio.Event | None = None, arrivals: asyncio.Event | None = None) -> int:
        """Process every message that is due now, up to ``options.concurrency`` at a time and one
        after another per sender (:mod:`rcinbox.service.lanes`); returns how many were processed."""

        async def due(after: StoredMessage | None) -> list[StoredMessage]:
            return await self.store.due(self.options.batch, after.pk if after is not None else 0)

        return await drain_lanes(
            due,
            lambda stored: same_key(stored.sender),
            self._process,
            width=self.options.concurrency,
            stop=stop,
            arrivals=arrivals,
            narrow=lambda: self.store.intake.waiting >= CROWD,  # acknowledgements first
        )

    async def process(self, pk: int) -> None:
        """Run the remaining steps for one message; failures are recorded, never raised."""
        await self._process(await self.store.message(pk))

    async def _process(self, stored: StoredMessage) -> None:
        if stored.state not in PENDING_STATES:
            return
        try:
            await self._steps(stored)
        except StoreFull:  # the disk, not this message: no attempt is counted, the worker backs off
            raise
        except Exception as exc:  # top of the per-message step: record, back off, carry on
            await self._failed(stored, exc)
        finally:
            self.changes.notify()

    async def _steps(self, stored: StoredMessage) -> None:
        msg = stored.inbound()  # parsed once at intake: the columns, never ``raw`` again
        # Attachments are queued for the download worker (the decision does not wait for them); a
        # message without any goes straight to the decision.
        received_mms = stored.state == "received" and msg.attachments
        if received_mms and await self.store.downloads.archive(stored.pk, msg.attachments):
            self.downloads.wake()
        await self._decide(stored, msg)

    async def _decide(self, stored: StoredMessage, msg: InboundMessage) -> None:
        rules = self.rules().for_extension(msg.extension_id)  # its own section over the defaults
        # Replicas: the sender's turn across processes (another may hold one of its texts now);
        # a message another replica decided meanwhile is left alone.
        async with self.store.sender_turn(msg.sender.phone_number):
            if self.store.shared and (await self.store.message(stored.pk)).state not in PENDING_STATES:
                return
            facts = await self.gather(stored.pk, msg, rules)
            decision = decide(facts, rules)
            record = decision_record(decision, facts, rules)
            concluded = await self.store.conclude(stored.pk, record, stored)
        log.info(
            "message %s from %s: %s (%s)",
            msg.message_id,
            msg.sender.phone_number,
            decision.action,
            decision.reason,
            extra={
                "action": "message.decided",
                "decision": decision.action,
                "reason": decision.reason,
                "intent": decision.intent,
            },
        )
        if concluded:
            self.observer.decided(decision.action, decision.reason)
            what = f"{decision.action} ({decision.reason})"
            self.notice(
                Activity("decided", msg.extension_id, self.clock.now(), msg.sender.phone_number, detail=what)
            )
        if concluded and (decision.action == "reply" or decision.escalation) and self.outbox is not None:
            self.outbox.wake()

    async def gather(self, pk: int, msg: InboundMessage, rules: Rules) -> Facts:
        """Everything :func:`decide` needs about ``msg``, from the platform caches and the store
        (one read: :meth:`Store.decision_facts`)."""
        now = self.clock.now()
        sender = msg.sender.phone_number
        numbers = await self.numbers.for_extension(msg.extension_id)
        contact = await self._contact(msg.extension_id, sender)
        known = await self.store.decision_facts(pk, sender, msg.extension_id, now - rules.loop_fuse.per)
        understanding = self.understanding
        classification = (
            None if understanding is None else await understanding.classify(rules.smart, msg.text)
        )
        return Facts(
            message=msg,
            now=now,
            owner_numbers=numbers.owner,
            company_numbers=numbers.company | rules.contacts.company_numbers,
            contact_name=contact.first_name if contact else None,
            contact_last_name=contact.last_name if contact else None,
            is_contact=contact is not None,
            opted_out=known.opted_out,
            last_replies=MappingProxyType(dict(known.history.last_replies)),
            escalated_at=known.history.escalated_at,
            classification=classification,
            replied_to_message=known.replied_to_message,
            automated_count_24h=known.automated_count,
            can_send=self.senders is None or self.senders.can_send(msg.extension_id),
            age=msg.age,
            before_first_start=msg.before_first_start,
        )

    async def _contact(self, extension_id: str, number: str) -> ContactInfo | None:
        book = self.contact_books.get(extension_id)
        if book is None:
            return None
        max_age = self.options.contacts_max_age
        await book.refresh_if_older_than(max_age.total_seconds() if max_age is not None else float("inf"))
        return book.lookup(number)

    async def _failed(self, stored: StoredMessage, exc: Exception) -> None:
        attempt = stored.attempts + 1
        error = f"{type(exc).__name__}: {exc}"
        if attempt >= self.options.retry.attempts:
            await self._park(stored, f"gave up after {attempt} attempts: {error}")
            return
        delay = self.options.retry.delay(attempt)
        if isinstance(exc, RateLimited):
            delay = max(delay, exc.retry_after)
        await self.store.message_failed(stored.pk, error, self.clock.now() + timedelta(seconds=delay))
        log.warning(
            "message %s: attempt %d failed (%s); retrying in %.0fs",
            stored.message_id,
            attempt,
            error,
            delay,
            extra={"action": "message.retry"},
        )

    async def _park(self, stored: StoredMessage, reason: str) -> None:
        await self.store.message_failed(stored.pk, reason, None)
        log.error("message %s parked: %s", stored.message_id, reason, extra={"action": "message.parked"})


def _log_accepted(msg: InboundMessage, new: bool, *, duplicate: int) -> None:
    """The intake line: DEBUG for a new message (its decision is the line to read)."""
    log.log(
        logging.DEBUG if new else duplicate,
        "accepted %s from %s via %s%s",
        msg.message_id,
        msg.sender.phone_number,
        msg.source,
        "" if new else " (duplicate)",
        extra={"action": "message.accepted" if new else "message.duplicate"},
    )
