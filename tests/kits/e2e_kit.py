"""End-to-end harness: the whole :class:`~rcinbox.service.app.Service` against the served emulator.

:class:`Harness` (the ``e2e`` fixture) holds one emulator, a temporary data directory (SQLite
archive, attachments, token file), the rules file and a controllable :class:`TestClock`: the one
date of the test. Every part of the service reads it through ``Tuning.clock`` and the emulator's
world runs on it too (``serve(clock=...)``, the ``e2e_clock`` fixture), so the platform's
timestamps (a message's ``creationTime``, a sync's ``syncTime``, expiry times) and the service's
"now" are one frame.
:meth:`Harness.running` opens a Service for the test's transport, runs it until the block ends and
yields a :class:`Live` handle to text it through the emulator (``POST /_emulator/inbound``), wait
for a message's decision (event-driven: the pipeline's and outbox's ``changes`` signals) and read
what the emulator received (``GET /_emulator/outbound``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import os
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
from typer.testing import CliRunner

from rcinbox.cli.main import app
from rcinbox.clock import SYSTEM, Clock
from rcinbox.emulator.push import notify
from rcinbox.emulator.runner import Running, free_port
from rcinbox.service.app import Service, Tuning
from rcinbox.settings import Settings
from rcinbox.store import Store
from rcinbox.store.records import PENDING_STATES, AttachmentRecord, OutboxRow, StoredMessage
from rcinbox.transports.webhook_subscription import WebhookPolicy
from rcinbox.transports.websocket import ReconnectPolicy

TransportName = Literal["websocket", "webhook"]
TRANSPORTS: tuple[TransportName, ...] = ("websocket", "webhook")

# The default account of the emulator (src/rcinbox/emulator/data.py).
ALEX_EXT, BLAIR_EXT = "62264425016", "62264426016"  # ext 101 (super admin) and ext 102
ALEX, ALEX_SUPPORT, BLAIR = "+16505550100", "+16505550101", "+16505550102"
CHARLIE, DANA = "+14155550100", "+14155550101"  # Alex's contacts (Charlie is Blair's contact too)
FRANKIE = "+14155550110"  # Blair's contact only
STRANGER, STRANGER2 = "+14155550199", "+14155550198"  # nobody's contact
BACKUP = "+16505550123"

MESSAGE = (
    "Auto-reply: Hi {first_name}, I'm away until {return_date}. For urgent matters call {backup_number}."
)
# 2026-12-21 10:00 in New York: inside the default window below.
INSIDE = datetime(2026, 12, 21, 15, 0, tzinfo=UTC)
WITHIN = 10.0  # seconds any single wait may take before the test fails

TUNING = Tuning(
    websocket=ReconnectPolicy(base_delay=0.05, max_delay=0.2, jitter=0.0),
    webhook=WebhookPolicy(check_interval=0.5),
    rules_check_interval=0.1,
)


def reply_for(first_name: str | None) -> str:
    """The default rules' reply as the sender receives it."""
    hello = f"Hi {first_name}," if first_name else "Hi,"
    return f"Auto-reply: {hello} I'm away until Monday, January 4. For urgent matters call {BACKUP}."


def rules_toml(
    *,
    enabled: bool = True,
    start: str = "2026-12-20T00:00:00",
    end: str = "2027-01-04T08:00:00",
    timezone: str = "America/New_York",
    message: str = MESSAGE,
    audience: str = "contacts",
    repeat_after: str = "7d",
    allowlist: Sequence[str] = (),
    blocklist: Sequence[str] = (),
    loop_fuse: str = "3/24h",
) -> str:
    """A rules file like the README's example, with the given changes."""

    def numbers(items: Sequence[str]) -> str:
        return "[" + ", ".join(f'"{n}"' for n in items) + "]"

    return f"""
[vacation]
enabled = {"true" if enabled else "false"}
start = {start}
end = {end}
timezone = "{timezone}"
message = "{message}"
audience = "{audience}"
repeat_after = "{repeat_after}"
[vacation.values]
backup_number = "{BACKUP}"
[contacts]
allowlist = {numbers(allowlist)}
blocklist = {numbers(blocklist)}
[safety]
loop_fuse = "{loop_fuse}"
"""


def rules_around_now() -> str:
    """Rules whose window holds the real "now" (for tests on real time), a reply without a date."""
    now, fmt = datetime.now(UTC), "%Y-%m-%dT%H:%M:%S"
    return rules_toml(
        start=(now - timedelta(days=1)).strftime(fmt),
        end=(now + timedelta(days=30)).strftime(fmt),
        timezone="UTC",
        message="Auto-reply: Hi {first_name}, I'm away this month.",
    )


class TestClock(Clock):
    """The date of the service and the emulator alike (``now``, ``time``): a fixed instant moved
    by hand, or (``fixed=None``) real time plus ``offset``. Only its durations and waits
    (``monotonic``, ``sleep``) stay real: moving the date wakes no one, and nothing waits for it."""

    __test__ = False  # not a test class for pytest

    def __init__(self, fixed: datetime | None = INSIDE) -> None:
        self.fixed = fixed
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return self.fixed if self.fixed is not None else SYSTEM.now() + self.offset

    def time(self) -> float:
        return self.now().timestamp()

    def set(self, moment: datetime) -> None:
        self.fixed = moment

    def flow(self) -> None:
        """From now on the date runs in real time from where it stands (a platform rate window,
        a duration, passes on it: the emulator counts it on this clock)."""
        if self.fixed is not None:
            self.offset, self.fixed = self.fixed - SYSTEM.now(), None

    def advance(self, delta: timedelta) -> None:
        if self.fixed is not None:
            self.fixed += delta
        else:
            self.offset += delta


@dataclass(frozen=True)
class Sent:
    """A message injected at the emulator: its platform id and the extension that received it."""

    message_id: str
    extension_id: str


@dataclass(frozen=True)
class Outcome:
    """What the service did with one message, from its store."""

    action: str
    reason: str
    reply_text: str | None
    reply_from: str | None
    reply_to: str | None
    reply: OutboxRow | None
    intent: str | None = None  # the intent the decision acted on (None: the text was not classified)


@dataclass
class Live:
    """A running service, and the emulator it talks to."""

    service: Service
    emu: Running
    http: httpx.AsyncClient  # on the emulator
    clock: TestClock

    @property
    def store(self) -> Store:
        return self.service.store

    async def text(
        self,
        text: str,
        *,
        sender: str = CHARLIE,
        to: str | Sequence[str] = ALEX,
        from_name: str | None = None,
        attachments: Iterable[tuple[str, bytes, str | None]] = (),
    ) -> Sent:
        """Someone texts the account (``POST /_emulator/inbound``); attachments are
        ``(content type, bytes, file name)``."""
        body: dict[str, Any] = {"from": sender, "to": to, "text": text}
        if from_name is not None:
            body["fromName"] = from_name
        uploads = [
            {"contentType": kind, "contentBase64": base64.b64encode(data).decode()}
            | ({"fileName": name} if name else {})
            for kind, data, name in attachments
        ]
        if uploads:
            body["attachments"] = uploads
        response = await self.http.post("/_emulator/inbound", json=body)
        assert response.status_code == 200, response.text
        first = to if isinstance(to, str) else to[0]
        return Sent(str(response.json()["messageId"]), self.extension_of(first))

    def redeliver(self, sent: Sent) -> int:
        """The platform announces the same message again (at-least-once delivery)."""
        return notify.inbound_arrived(self.emu.world, self.emu.world.messages[int(sent.message_id)])

    def extension_of(self, number: str) -> str:
        owner = self.emu.world.owner_of(number)
        assert owner is not None, f"no extension owns {number}"
        return str(owner.id)

    async def outcome(
        self, sent: Sent, within: float = WITHIN, *, retried: bool = False, expect_reply: bool = True
    ) -> Outcome:
        """Wait for the message's decision and, for a reply (unless ``expect_reply`` is false),
        until the outbox is done with it (sent or failed for good).

        A processing error fails the test at once, unless the message is ``retried`` (it failed
        before a restart and is expected to go through now)."""
        store = self.service.store
        failure: list[str] = []

        async def decided() -> bool:
            stored = await store.find_message(sent.extension_id, sent.message_id)
            if stored is not None and stored.last_error and not retried:
                failure.append(stored.last_error)
                return True
            return stored is not None and stored.state not in PENDING_STATES

        await self.service.pipeline.changes.until(decided, within)
        assert not failure, f"message {sent.message_id} failed: {failure[0]}"
        stored = await store.find_message(sent.extension_id, sent.message_id)
        assert stored is not None
        pk = stored.pk
        decision = await store.decision(pk)
        assert decision is not None, f"message {sent.message_id} ended {stored.state} without a decision"
        row = None
        if decision.action == "reply" and expect_reply:

            async def finished() -> bool:
                found = await store.outbox.for_message(pk)
                return found is not None and found.state in ("sent", "failed")

            await self.service.outbox.changes.until(finished, within)
        row = await store.outbox.for_message(pk)
        return Outcome(
            decision.action,
            decision.reason,
            decision.reply_text,
            decision.reply_from,
            decision.reply_to,
            row,
            decision.intent,
        )

    async def stored(self, sent: Sent) -> StoredMessage:
        """The archived message (it must be there)."""
        stored = await self.service.store.find_message(sent.extension_id, sent.message_id)
        assert stored is not None, f"message {sent.message_id} is not in the archive"
        return stored

    async def reply_row(self, sent: Sent) -> OutboxRow:
        """The outbox row of the message's reply (it must have one)."""
        row = await self.service.store.outbox.for_message((await self.stored(sent)).pk)
        assert row is not None, f"message {sent.message_id} has no reply in the outbox"
        return row

    async def reasons(self, *sent: Sent) -> list[str]:
        return [(await self.outcome(s)).reason for s in sent]

    async def attachments(self, sent: Sent, within: float = WITHIN) -> dict[str, AttachmentRecord]:
        """The message's attachments once none is ``pending`` any more: they are downloaded after
        the decision, on their own queue."""
        store = self.service.store
        pk = (await self.stored(sent)).pk

        async def settled() -> bool:
            records = await store.attachments(pk)
            return bool(records) and all(r.state != "pending" for r in records.values())

        await self.service.pipeline.downloads.changes.until(settled, within)
        return await store.attachments(pk)


def cli_messages(data_dir: Path, limit: int = 50, database_url: str | None = None) -> list[dict[str, Any]]:
    """``rcinbox messages --json --data-dir DATA_DIR [--database-url URL]`` (run it in a thread: it
    has its own loop)."""
    args = ["messages", "--json", "--limit", str(limit), "--data-dir", str(data_dir)]
    args += ["--database-url", database_url] if database_url else []
    result = CliRunner().invoke(app, [*args, "--env-file", os.devnull], env={"RCINBOX_DATABASE_URL": None})
    assert result.exit_code == 0, result.output
    entries: list[dict[str, Any]] = json.loads(result.stdout)
    return entries


@dataclass
class Crashable(Live):
    runner: asyncio.Task[None] | None = None

    async def crash(self) -> None:
        """Kill the running service now."""
        assert self.runner is not None
        self.runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.runner, WITHIN)


async def outbound(http: httpx.AsyncClient, to: str | None = None) -> list[dict[str, Any]]:
    """What the emulator received through ``/sms`` and ``/mms`` (to ``to`` when given)."""
    response = await http.get("/_emulator/outbound")
    assert response.status_code == 200, response.text
    records: list[dict[str, Any]] = response.json()["records"]
    return [r for r in records if to is None or to in r["to"]]


async def replies(http: httpx.AsyncClient, to: str) -> list[tuple[str, str]]:
    """``(from, text)`` of every SMS the emulator received for ``to``."""
    return [(r["from"], r["text"]) for r in await outbound(http, to)]


@dataclass
class Harness:
    """One test's emulator, transport, data directory, rules and clock (the ``e2e`` fixture)."""

    emu: Running
    http: httpx.AsyncClient
    tmp: Path
    transport: TransportName
    clock: TestClock  # the emulator's world runs on it too (the ``e2e_clock`` fixture)
    port: int = field(default_factory=free_port)
    tuning: Tuning = TUNING  # the service's knobs (a test may shorten others)
    database_url: str | None = None  # None: the SQLite file in the data directory (the default)

    @property
    def data_dir(self) -> Path:
        return self.tmp / "data"

    @property
    def rules_path(self) -> Path:
        return self.tmp / "rcinbox.toml"

    def write_rules(self, text: str) -> None:
        self.rules_path.write_text(text, encoding="utf-8")

    def _use_rules(self, rules: str | None) -> None:
        """Write ``rules``; without them keep the file of an earlier start, or write the defaults."""
        if rules is not None:
            self.write_rules(rules)
        elif not self.rules_path.exists():
            self.write_rules(rules_toml())

    def environ(self, **extra: str) -> dict[str, str]:
        world = self.emu.world
        env = {
            "RC_SERVER_URL": self.emu.url,
            "RC_APP_CLIENT_ID": world.app.client_id,
            "RC_APP_CLIENT_SECRET": world.app.client_secret,
            "RC_USER_JWT": world.extensions[0].jwt,
            "RCINBOX_TRANSPORT": self.transport,
            "RCINBOX_PORT": str(self.port),
            "RCINBOX_DATA_DIR": str(self.data_dir),
            "RCINBOX_RULES": str(self.rules_path),
        }
        if self.transport == "webhook":
            env["RCINBOX_WEBHOOK_URL"] = f"http://127.0.0.1:{self.port}/hooks/rc"
        if self.database_url is not None:
            env["RCINBOX_DATABASE_URL"] = self.database_url
        return env | extra

    def settings(self, **extra: str) -> Settings:
        return Settings.from_env(self.environ(**extra), env_file=None)

    @contextlib.asynccontextmanager
    async def running(self, rules: str | None = None, **environ: str) -> AsyncIterator[Live]:
        """The service, subscribed and running, for the block; stopped (gracefully) after it."""
        self._use_rules(rules)
        async with Service.open(self.settings(**environ), self._tuning()) as service:
            stop = asyncio.Event()
            runner = asyncio.create_task(service.run(stop), name="e2e.service")
            try:
                await _ready(service, runner)
                yield Live(service, self.emu, self.http, self.clock)
            finally:
                stop.set()
                await asyncio.wait_for(runner, WITHIN)

    @contextlib.asynccontextmanager
    async def crashing(self, rules: str | None = None, **environ: str) -> AsyncIterator[Crashable]:
        """Like :meth:`running`, but the service is killed (its task cancelled, as a crash would:
        nothing gets to finish what it was doing) by ``crash()`` or at the end of the block.

        Kill it while its database is idle (e.g. while the outbox waits on the platform): unlike
        a dead process, a cancelled in-flight SQLite query can keep its lock until this process
        ends, and the restarted service would find the database locked."""
        self._use_rules(rules)
        async with Service.open(self.settings(**environ), self._tuning()) as service:
            runner = asyncio.create_task(service.run(asyncio.Event()), name="e2e.service")
            live = Crashable(service, self.emu, self.http, self.clock, runner)
            try:
                await _ready(service, runner)
                yield live
            finally:
                await live.crash()

    def _tuning(self) -> Tuning:
        return dataclasses.replace(self.tuning, clock=self.clock)

    async def faults(self, body: Mapping[str, Any]) -> None:
        response = await self.http.post("/_emulator/faults", json=dict(body))
        assert response.status_code == 200, response.text

    async def clear_faults(self) -> None:
        response = await self.http.delete("/_emulator/faults")
        assert response.status_code in (200, 204), response.text


async def _ready(service: Service, runner: asyncio.Task[None]) -> None:
    """Wait until the subscription is live and the start-up catch-up (message-sync) is done, so
    that what a test texts next arrives through the transport (surfacing a crash at start)."""
    waiter = asyncio.create_task(_settled(service), name="e2e.ready")
    done, _ = await asyncio.wait({waiter, runner}, return_when=asyncio.FIRST_COMPLETED)
    if runner in done:
        waiter.cancel()
        runner.result()
        raise AssertionError("the service stopped before it was ready")
    waiter.result()


async def _settled(service: Service) -> None:
    await service.board.wait_until(lambda s: s.ready, within=WITHIN)

    async def caught_up() -> bool:
        return service.catchup.changes.count > 0

    await service.catchup.changes.until(caught_up, WITHIN)
