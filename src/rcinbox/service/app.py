"""The service: wires settings into running parts and runs them until stopped.

:meth:`Service.open` (an async context manager) opens, in order, and closes in reverse even if
startup fails halfway: the rules (refused at start when invalid), the data directory's lock (a
second service on the same directory is refused: :mod:`rcinbox.datalock`), the local HTTP address
(bound before any login, so a taken port is reported at once), the store, the classifier of the
rules' ``[smart]`` backend (loaded in a thread; see :mod:`rcinbox.service.understanding` for a
backend that fails to load, and reloaded when the rules change it), the platform client (JWT login
or the saved session), the contact books, the sender credentials of other users' extensions
(:mod:`rcinbox.service.senders`), the outbox, the attachment downloads, the pipeline, the transport
(WebSocket, or WebHook endpoint + subscription manager), the dashboard (:mod:`rcinbox.dashboard`:
its password and session key from the kv table), the metrics (:mod:`rcinbox.service.metrics`: every
part above tells them what happens) and the local HTTP server (``/healthz``, ``/readyz``, the
webhook path, the dashboard's pages, ``/metrics``). :meth:`Service.run` runs the background
loops (pipeline worker, outbox sender, attachment downloads, rules reloader, and the leader's
work: transport and message-sync catch-up, run while this process leads,
:mod:`rcinbox.service.leadership`) as named tasks of one ``TaskGroup`` until ``stop``; at ``stop``
it cuts short every wait for RingCentral's budget (nothing is in flight then).
:func:`run_until_signalled` is what ``rcinbox run`` calls: SIGINT/SIGTERM set ``stop``, and while
the service is still starting (logging in, waiting for the budget, retrying) they cancel the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from starlette.routing import BaseRoute

from rcinbox.clock import SYSTEM, Clock
from rcinbox.dashboard import Publisher, dashboard_for, load_credentials
from rcinbox.dashboard.archive import ArchivePages
from rcinbox.dashboard.outofoffice import OutOfOfficePages
from rcinbox.dashboard.pages import Dashboard
from rcinbox.dashboard.scrape import MetricsPage
from rcinbox.datalock import data_dir_lock
from rcinbox.logs import redact
from rcinbox.platform import PlatformClient, Waits
from rcinbox.private import private_dir
from rcinbox.rules import RulesWatcher
from rcinbox.service.attachment_storage import storage_for
from rcinbox.service.catchup import CatchUpLoop, CatchUpPolicy
from rcinbox.service.contacts import ContactBook
from rcinbox.service.dashboard_status import Parts, announce, status_source
from rcinbox.service.downloads import Downloads
from rcinbox.service.leadership import LeaderPolicy, Leadership
from rcinbox.service.membership import Membership
from rcinbox.service.metrics import CONTENT_TYPE, Metrics
from rcinbox.service.outbox import Outbox
from rcinbox.service.pipeline import Pipeline
from rcinbox.service.senders import open_senders
from rcinbox.service.understanding import ClassifierFactory, Understanding, classifier_for
from rcinbox.service.web import Check, Listening, bind, build_app, serve_on
from rcinbox.settings import Settings
from rcinbox.store import Store
from rcinbox.transports import instant_sms_filters
from rcinbox.transports.status import StatusBoard
from rcinbox.transports.webhook import WebhookEndpoint
from rcinbox.transports.webhook_subscription import WebhookPolicy, WebhookSubscription
from rcinbox.transports.websocket import ReconnectPolicy, WebSocketTransport
from rcinbox.waiting import Changes

log = logging.getLogger("rcinbox.service")

RULES_CHECK_INTERVAL = 2.0  # seconds between stats of the rules file
PASSWORD_HINTS = {
    "environment": "sign in with RCINBOX_ADMIN_PASSWORD",
    "stored": "sign in with the password shown at the first start, or set RCINBOX_ADMIN_PASSWORD",
    "generated": "sign in with the password shown above",
}


class Receiver(Protocol):
    """A transport's background part: keeps the subscription alive until ``stop``."""

    board: StatusBoard

    async def run(self, stop: asyncio.Event) -> None: ...


@dataclass(frozen=True)
class Tuning:
    """Knobs tests and the demo turn (production uses the defaults)."""

    websocket: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    webhook: WebhookPolicy = field(default_factory=WebhookPolicy)
    rules_check_interval: float = RULES_CHECK_INTERVAL
    clock: Clock = SYSTEM  # the one clock of every part (tests pass a FakeClock and move it)
    catchup: CatchUpPolicy = field(default_factory=CatchUpPolicy)
    leader: LeaderPolicy = field(default_factory=LeaderPolicy)
    # How a classifier is built for the rules' [smart] backend; None: rcinbox.intents' own.
    classifier: ClassifierFactory | None = None
    # Who is told a generated dashboard password (None: the console, once); the demo shows it itself.
    announce: Callable[[str], None] | None = None


@dataclass
class Service:
    settings: Settings
    store: Store
    client: PlatformClient
    rules: RulesWatcher
    books: dict[str, ContactBook]
    pipeline: Pipeline
    outbox: Outbox
    receiver: Receiver
    http: Listening
    tuning: Tuning
    catchup: CatchUpLoop = field(init=False)  # message-sync after (re)subscriptions and periodically
    metrics: Metrics = field(init=False)  # what every part counts, served at /metrics
    leadership: Leadership = field(init=False)  # runs the leader's work while this replica leads
    membership: Membership | None = field(init=False, default=None)  # replicas: their share of the limits
    dashboard: Dashboard = field(init=False)  # the owner's pages (sessions, sign-outs)
    rules_checked: Changes = field(init=False, default_factory=Changes)  # after each look at the file

    @property
    def board(self) -> StatusBoard:
        return self.receiver.board

    def not_ready(self) -> list[str]:
        """Why ``/readyz`` says 503 (empty when ready)."""
        checks = readiness(self.client, self.board, self.leadership)
        return [reason for check in checks if (reason := check()) is not None]

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, settings: Settings, tuning: Tuning | None = None) -> AsyncIterator[Service]:
        tuning = tuning or Tuning()
        clock = tuning.clock
        rules = RulesWatcher(settings.rules)  # an invalid file stops us here, before any I/O
        async with AsyncExitStack() as stack:
            private_dir(settings.data_dir)  # 0700: the archive and the webhook token are private
            stack.enter_context(data_dir_lock(settings.data_dir))  # one service per data directory
            sock = stack.enter_context(contextlib.closing(bind(settings.host, settings.port)))
            store = await Store.open(settings.database_url, clock=clock)
            stack.push_async_callback(store.close)
            # the dashboard's password (a generated one shown now, before any login line) and session key
            credentials = await load_credentials(store, settings.admin_password, tuning.announce or announce)
            waits = Waits()  # every client's waits for RingCentral's budget: /readyz, and cut at stop
            metrics = Metrics(clock)  # every part tells it what happens (rcinbox.observe)
            # replicas keep the OAuth sessions in the shared database, one process in its files
            sessions = {"sessions": store} if store.shared else {}
            client = await stack.enter_async_context(
                PlatformClient.from_settings(settings, waits=waits, clock=clock, observer=metrics, **sessions)
            )
            owner = client.auth.owner_id or "~"
            books = {ext: ContactBook(client, ext, clock=clock) for ext in settings.extensions or (owner,)}
            senders = await stack.enter_async_context(
                open_senders(
                    settings, client, list(books), waits=waits, clock=clock, observer=metrics, **sessions
                )
            )
            # after the login, so a wrong server or credential is still the only line a user sees
            understanding = Understanding(tuning.classifier or classifier_for)
            await understanding.ensure(rules.current().smart)  # in a thread; a failure falls back
            outbox = Outbox(store, client, senders=senders, rules=rules.current)
            # the Medium budget is shared: downloads take at most half of it, replies the rest
            # the attachments: files under the data directory, or the database (replicas' default)
            storage = storage_for(settings.attachment_storage or "files", settings.data_dir, store)
            downloads = Downloads(store, client, settings.data_dir, pacer=client.pacer, storage=storage)
            pipeline = Pipeline(
                store,
                client,
                rules.current,
                books,
                settings.data_dir,
                outbox=outbox,
                senders=senders,
                understanding=understanding,
                downloads=downloads,
            )
            receiver, routes = await _transport(settings, tuning, client, store, pipeline, metrics)
            catchup = CatchUpLoop.for_extensions(
                client,
                store,
                pipeline,
                list(books),
                receiver.board,
                policy=tuning.catchup,
                clock=clock,
                backlog=store,
            )
            leadership = Leadership(store.lease(), policy=tuning.leader, clock=clock)
            checks = readiness(client, receiver.board, leadership)
            publisher = Publisher()  # the dashboard's live feed: the pipeline and outbox publish
            pipeline.notice = outbox.notice = publisher.publish
            pipeline.observer = outbox.observer = catchup.observer = metrics
            metrics.read_from(store.outbox.depth, lambda: receiver.board.status)
            parts = Parts(
                rules=rules.current,
                transport=lambda: receiver.board.status,
                not_ready=lambda: [reason for check in checks if (reason := check()) is not None],
                waits=waits.current,
                reports=lambda: catchup.reports,
            )
            snapshot = status_source(parts, client.auth, store, list(books), clock)
            dashboard = dashboard_for(credentials, store, list(books), snapshot, publisher, clock=clock)
            archive = ArchivePages(
                dashboard, store, settings.data_dir, lambda: rules.current().vacation.timezone
            )
            # saving reloads the rules at once: the pipeline and the outbox read rules.current
            outofoffice = OutOfOfficePages(archive, settings.rules, rules.current, rules.check)
            scrape = MetricsPage(
                metrics.render,
                CONTENT_TYPE,
                dashboard.sessions,
                dashboard.password,
                dashboard.limiter,
                public=settings.metrics_public,
            )
            pages = [*dashboard.routes(), *archive.routes(), *outofoffice.routes(), *scrape.routes()]
            app = build_app(checks, [*routes, *pages], waiting=waits.current)
            http = await stack.enter_async_context(serve_on(app, sock))
            stack.callback(publisher.close)  # first at stop: the open /events streams end
            log.info("dashboard on %s/ (%s)", http.url, PASSWORD_HINTS[dashboard.password_source])
            service = cls(settings, store, client, rules, books, pipeline, outbox, receiver, http, tuning)
            service.catchup = catchup
            service.metrics = metrics
            service.leadership = leadership
            service.dashboard = dashboard
            if store.shared:  # replicas split the rate limits of every session they share
                pacers = [
                    client.pacer,
                    *(c.pacer for c in senders.others.values() if isinstance(c, PlatformClient)),
                ]
                service.membership = Membership(
                    store, pacers, orphans=outbox.wake, orphan_downloads=downloads.wake
                )
                outbox.claimant = service.membership.replica  # a gone replica's claims end early
                downloads.claimant = service.membership.replica
                outbox.fence = service.membership.fence  # a frozen one's are not sent after that
            log.info(
                "rcinbox ready to run: %s transport, extensions %s", settings.transport, ", ".join(books)
            )
            yield service

    async def run(self, stop: asyncio.Event) -> None:
        """Run every background loop until ``stop`` is set; a crashing loop stops them all."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.pipeline.run(stop), name="rcinbox.pipeline")
            sent = asyncio.Event()  # the outbox ended: its sends in flight landed
            tasks.create_task(self._send(stop, sent), name="rcinbox.outbox")
            tasks.create_task(self.pipeline.downloads.run(stop), name="rcinbox.downloads")
            tasks.create_task(self._watch_rules(stop), name="rcinbox.rules")
            tasks.create_task(self.leadership.run(stop, self._lead), name="rcinbox.leadership")
            if self.membership is not None:  # alive until the sends in flight landed
                tasks.create_task(self.membership.run(sent), name="rcinbox.membership")
                # a dashboard session signed out on another replica is refused here too
                tasks.create_task(self.dashboard.follow_sign_outs(stop), name="rcinbox.sign-outs")
            tasks.create_task(self._interrupt_waits(stop), name="rcinbox.waits")

    async def _send(self, stop: asyncio.Event, sent: asyncio.Event) -> None:
        try:
            await self.outbox.run(stop)
        finally:
            sent.set()

    async def _lead(self, ended: asyncio.Event) -> None:
        """The leader's work (one replica at a time; the only process on SQLite): the
        subscription (the WebSocket, or the WebHook's renewal) and message-sync catch-up."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.receiver.run(ended), name=f"rcinbox.transport.{self.settings.transport}")
            tasks.create_task(self.catchup.run(ended), name="rcinbox.catchup")

    async def _interrupt_waits(self, stop: asyncio.Event) -> None:
        """At ``stop``, a loop waiting for RingCentral's budget (up to a minute, or a 429's
        penalty) or for a retry ends at once: it has sent nothing, so nothing is lost."""
        await stop.wait()
        self.client.pacer.waits.interrupt()

    async def _watch_rules(self, stop: asyncio.Event) -> None:
        """Reload the rules when the file changed (the watcher logs "rules reloaded" once)."""
        while not await self.tuning.clock.wait(stop, at_most=self.tuning.rules_check_interval):
            self.rules.check()
            if self.pipeline.understanding is not None:  # a new backend or model: load it now
                await self.pipeline.understanding.ensure(self.rules.current().smart)
            self.rules_checked.notify()


def readiness(client: PlatformClient, board: StatusBoard, leadership: Leadership) -> list[Check]:
    """Ready = a valid access token and an active subscription (held by this replica when it
    leads; a follower is ready while another replica holds the lease); each check gives its reason."""

    def token() -> str | None:
        return None if client.auth.valid() else "no valid access token"

    def subscription() -> str | None:
        if not leadership.leading and not leadership.lease.sole:  # alone: it leads once it runs
            return None if leadership.following else "no leader yet: waiting for the leader lease"
        status = board.status
        if status.ready:
            return None
        # Reasons can quote the platform or the network (a URL with a token): redact like a log line.
        return redact(f"{status.kind}: {status.reason or 'subscription not active'}")

    return [token, subscription]


async def _transport(
    settings: Settings,
    tuning: Tuning,
    client: PlatformClient,
    store: Store,
    pipeline: Pipeline,
    metrics: Metrics,
) -> tuple[Receiver, list[BaseRoute]]:
    filters = instant_sms_filters(settings.extensions)
    if settings.transport == "websocket":
        return WebSocketTransport(client, pipeline, filters, policy=tuning.websocket, clock=tuning.clock), []
    assert settings.webhook_url is not None  # Settings refuses webhook mode without it
    policy = replace(tuning.webhook, expires_in=settings.webhook_expires_in)  # RCINBOX_WEBHOOK_EXPIRES_IN
    manager = WebhookSubscription(
        client, store, settings.webhook_url, filters, policy=policy, clock=tuning.clock
    )
    await manager.load()
    endpoint = WebhookEndpoint(pipeline, manager.tokens, manager.board, clock=tuning.clock, observer=metrics)
    return manager, [endpoint.route(settings.webhook_path)]


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` for the block; a second Ctrl-C exits at once."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, _on_signal, stop, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform without signals
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _on_signal(stop: asyncio.Event, sig: signal.Signals) -> None:
    if not stop.is_set():
        log.info("%s: stopping", sig.name)
        stop.set()
    elif sig == signal.SIGINT:  # Ctrl-C again: the user wants out now; the store is crash-safe
        log.warning("SIGINT again: exiting now")
        os._exit(130)
    else:  # supervisors (make, timeout, systemd) often deliver SIGTERM twice: not a second request
        log.info("%s: already stopping", sig.name)


async def run_until_signalled(settings: Settings, tuning: Tuning | None = None) -> None:
    """Open and run the service until SIGINT/SIGTERM. A signal while it is still starting cancels
    the start at once (what was opened is closed again) and returns quietly."""
    stop = asyncio.Event()
    main = asyncio.current_task()
    assert main is not None
    with stop_on_signals(stop):
        watcher = asyncio.create_task(_cancel_on(stop, main), name="rcinbox.starting")
        try:
            async with Service.open(settings, tuning) as service:
                watcher.cancel()  # started: from now on ``stop`` ends the loops gracefully
                await service.run(stop)
        except asyncio.CancelledError:
            if not (watcher.done() and not watcher.cancelled()):
                raise  # not ours
            main.uncancel()
            log.info("stopped while starting", extra={"action": "service.start_cancelled"})
        finally:
            watcher.cancel()


async def _cancel_on(stop: asyncio.Event, task: asyncio.Task[Any]) -> None:
    await stop.wait()
    task.cancel()
