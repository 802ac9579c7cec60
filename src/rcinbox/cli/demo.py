"""``rcinbox demo``: the bundled emulator and the service on free ports, a scripted conversation.

:func:`run_demo` (what the CLI calls) → :func:`main`: serve the emulator in-process
(:func:`rcinbox.emulator.runner.serve`), write the demo rules into a fresh demo data directory,
build :class:`~rcinbox.settings.Settings` for ext 101 of the emulator's world, open and run the
:class:`~rcinbox.service.app.Service`, then play :data:`rcinbox.cli.demo_script.SCRIPT` through
``POST /_emulator/inbound``. Each step waits (event-driven, with a time limit) for its decision in
the store and, for a reply, for the outbox to finish the send; the reply text is read back from
``GET /_emulator/outbound``. The table is printed; with ``once`` the demo exits (0 when every
decision matched), otherwise it keeps serving until Ctrl-C so more texts can be injected.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import shutil
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
from rich.console import Console

from rcinbox import logs
from rcinbox.cli.demo_script import (
    ALEX,
    ALLOWLISTED,
    SCRIPT,
    Outcome,
    Step,
    demo_rules,
    photo_sha256,
    table,
    tiny_png,
)
from rcinbox.clock import SYSTEM
from rcinbox.datalock import LOCK_NAME, data_dir_lock
from rcinbox.emulator.model import Extension
from rcinbox.emulator.runner import Running, free_port, serve
from rcinbox.errors import RcinboxError
from rcinbox.private import private_dir
from rcinbox.service.app import Service, Tuning, stop_on_signals
from rcinbox.settings import Settings
from rcinbox.store import DecisionRecord, OutboxRow

log = logging.getLogger("rcinbox.demo")

DEFAULT_DIR = Path("rcinbox-data/demo")
MARKER = ".rcinbox-demo"  # only a directory carrying it (or an empty one) is wiped
DEMO_EXTENSION = "101"
READY_WITHIN = 20.0  # seconds for login + subscription
STEP_WITHIN = 15.0  # seconds for one message to be decided (and its reply sent)
T = TypeVar("T")


class DemoError(RuntimeError):
    """The demo cannot run (a foreign directory in the way, the service never became ready)."""


class Interrupted(DemoError):
    """Ctrl-C (or ``stop``) before the script was played to the end."""


@dataclass(frozen=True)
class DemoOptions:
    once: bool = False
    transport: Literal["websocket", "webhook"] = "websocket"
    data_dir: Path = DEFAULT_DIR
    host: str = "127.0.0.1"


def run_demo(options: DemoOptions, console: Console | None = None) -> int:
    """Run the demo in a fresh event loop; the process exit status."""
    console = console or Console(highlight=False)
    logs.setup("WARNING")
    try:
        return asyncio.run(main(options, console))
    except Interrupted:
        console.print("interrupted")
        return 130
    except DemoError as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        return 2
    except (RcinboxError, OSError) as exc:  # the service refused to start or failed
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        return 130


async def main(options: DemoOptions, console: Console) -> int:
    outcomes = await demo(options, console)
    return 0 if all(outcome.ok for outcome in outcomes) else 1


async def demo(
    options: DemoOptions,
    console: Console,
    stop: asyncio.Event | None = None,
    serving: asyncio.Future[Running] | None = None,
) -> list[Outcome]:
    """Run the whole demo; returns the outcomes (after Ctrl-C or ``stop`` unless ``once``).

    ``serving`` is resolved with the running emulator once the table is printed and the demo
    serves on (tests wait on it, then on the emulator's own signals).
    """
    stop = stop if stop is not None else asyncio.Event()
    with fresh_dir(options.data_dir) as data_dir:  # locked, then wiped
        return await _demo(options, console, stop, serving, data_dir)


async def _demo(
    options: DemoOptions,
    console: Console,
    stop: asyncio.Event,
    serving: asyncio.Future[Running] | None,
    data_dir: Path,
) -> list[Outcome]:
    rules = data_dir / "rcinbox.toml"
    rules.write_text(demo_rules(SYSTEM.now()), encoding="utf-8")
    passwords: list[str] = []  # the dashboard's, generated for this run: shown under the table
    async with serve(options.host) as emulator:
        settings = demo_settings(emulator, options, data_dir, rules)
        async with (
            Service.open(settings, Tuning(announce=passwords.append)) as service,
            httpx.AsyncClient(base_url=emulator.url, timeout=10, trust_env=False) as http,
        ):
            with stop_on_signals(stop):
                runner = asyncio.create_task(service.run(stop), name="rcinbox.demo.service")
                try:
                    play = _play(service, http, console, demo_extension_id(emulator))
                    outcomes = await _alongside(runner, play)
                    console.print(table(outcomes, console.width))
                    _explain(console, emulator, service, settings, outcomes, live=not options.once)
                    if passwords and not options.once:
                        console.print(  # opens on the script's conversations once signed in
                            f"Dashboard: {service.http.url}/conversations  (password {passwords[0]})",
                            soft_wrap=True,
                        )
                    if not options.once:
                        console.print("\nServing until Ctrl-C…", soft_wrap=True)
                        if serving is not None:
                            serving.set_result(emulator)
                        await _alongside(runner, stop.wait())
                finally:
                    stop.set()
                    await asyncio.wait_for(runner, 15)
    return outcomes


@contextlib.contextmanager
def fresh_dir(path: Path) -> Iterator[Path]:
    """``path``, emptied for a new run and locked (:mod:`rcinbox.datalock`) for the block: a demo
    still running there is not wiped. Refuses to wipe a directory the demo did not create."""
    path = path.resolve()
    if path.exists():
        ours = [p for p in path.iterdir() if p.name != LOCK_NAME] if path.is_dir() else None
        if ours is None or (ours and not (path / MARKER).exists()):
            raise DemoError(f"{path} exists and is not a demo directory; choose another --data-dir")
    private_dir(path)
    with data_dir_lock(path):
        for entry in path.iterdir():
            if entry.name == LOCK_NAME:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        (path / MARKER).write_text("created by `rcinbox demo`; wiped at its next run\n", encoding="utf-8")
        yield path


def demo_extension_id(emulator: Running) -> str:
    return str(_demo_extension(emulator).id)


def _demo_extension(emulator: Running) -> Extension:
    return next(e for e in emulator.world.extensions if e.extension_number == DEMO_EXTENSION)


def demo_settings(emulator: Running, options: DemoOptions, data_dir: Path, rules: Path) -> Settings:
    """Settings for ext 101 of the emulator's world, the HTTP server on a free port."""
    world = emulator.world
    ext = _demo_extension(emulator)
    port = free_port(options.host)
    webhook = f"http://{options.host}:{port}/rcinbox/webhook" if options.transport == "webhook" else None
    return Settings(
        client_id=world.app.client_id,
        client_secret=world.app.client_secret,
        jwt=ext.jwt,
        server_url=emulator.url,
        transport=options.transport,
        webhook_url=webhook,
        host=options.host,
        port=port,
        data_dir=data_dir,
        rules=rules,
        log_level="WARNING",
    )


async def _alongside(runner: asyncio.Task[None], work: Awaitable[T]) -> T:
    """Await ``work`` while the service runs; if the service stops first, raise its failure
    (or :class:`Interrupted` when it stopped because it was asked to)."""
    task: asyncio.Task[T] = asyncio.ensure_future(work)
    try:
        await asyncio.wait({runner, task}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            runner.result()  # re-raises the service's failure
            raise Interrupted("stopped before the demo finished")
        return task.result()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _play(
    service: Service, http: httpx.AsyncClient, console: Console, extension_id: str
) -> list[Outcome]:
    try:
        await service.board.wait_until(lambda status: status.ready, within=READY_WITHIN)
    except TimeoutError:
        raise DemoError(
            f"the service was not ready after {READY_WITHIN:.0f}s: {service.not_ready()}"
        ) from None
    console.print(f"[dim]rcinbox is subscribed ({service.settings.transport}); playing the script…[/dim]")
    outcomes = []
    for number, step in enumerate(SCRIPT, start=1):
        message_id = await inject(http, step)
        outcomes.append(await settle(service, http, extension_id, number, step, message_id))
    return outcomes


async def inject(http: httpx.AsyncClient, step: Step) -> str:
    body: dict[str, Any] = {"from": step.sender, "to": list(step.to), "text": step.text}
    if step.photo:
        encoded = base64.b64encode(tiny_png()).decode()
        body["attachments"] = [{"contentType": "image/png", "contentBase64": encoded, "fileName": "site.png"}]
    response = await http.post("/_emulator/inbound", json=body)
    if response.status_code != 200:
        raise DemoError(f"the emulator refused the inbound text: {response.status_code} {response.text}")
    return str(response.json()["messageId"])


@dataclass
class _Progress:
    """What the store says about one demo message so far."""

    pk: int | None = None
    decision: DecisionRecord | None = None
    row: OutboxRow | None = None
    escalation: OutboxRow | None = None


async def settle(
    service: Service, http: httpx.AsyncClient, extension_id: str, number: int, step: Step, message_id: str
) -> Outcome:
    """Wait for the decision on ``message_id``, for its reply's send and for its attachments'
    downloads; collect what happened.

    Event-driven: the pipeline's and the outbox's ``changes`` signal every step they take.
    """
    store = service.store
    outcome = Outcome(number, step, message_id, expected_sha256=photo_sha256() if step.photo else None)
    seen = _Progress()

    async def decided() -> bool:
        stored = await store.find_message(extension_id, message_id)
        if stored is not None:
            seen.pk, seen.decision = stored.pk, await store.decision(stored.pk)
        return seen.decision is not None

    async def sent() -> bool:
        if seen.pk is None:
            return False
        seen.row = await store.outbox.for_message(seen.pk)
        seen.escalation = await store.outbox.for_message(seen.pk, "escalation")
        return all(
            row is None or row.state not in ("queued", "sending") for row in (seen.row, seen.escalation)
        )

    async def downloaded() -> bool:  # attachments come in after the decision, on their own queue
        assert seen.pk is not None
        return all(a.state != "pending" for a in (await store.attachments(seen.pk)).values())

    try:
        await service.pipeline.changes.until(decided, STEP_WITHIN)
        if seen.decision is not None:  # its reply and escalation, if any, sent
            await service.outbox.changes.until(sent, STEP_WITHIN)
            await service.pipeline.downloads.changes.until(downloaded, STEP_WITHIN)
    except TimeoutError:
        log.warning("message %s: not settled within %.0fs", message_id, STEP_WITHIN)
        return outcome
    assert seen.pk is not None and seen.decision is not None
    hashes = [a.sha256 for a in (await store.attachments(seen.pk)).values() if a.sha256]
    platform_id = seen.row.platform_message_id if seen.row is not None else None
    return Outcome(
        number,
        step,
        message_id,
        seen.decision.action,
        seen.decision.reason,
        reply=await _received(http, platform_id) if platform_id else None,
        sha256=hashes[0] if hashes else None,
        expected_sha256=outcome.expected_sha256,
        intent=seen.decision.intent,
        escalated_to=seen.escalation.to_number if seen.escalation is not None else None,
    )


async def _received(http: httpx.AsyncClient, platform_id: str) -> str | None:
    records = (await http.get("/_emulator/outbound")).json()["records"]
    return next((str(r["text"]) for r in records if str(r["id"]) == platform_id), None)


def _explain(
    console: Console,
    emulator: Running,
    service: Service,
    settings: Settings,
    outcomes: list[Outcome],
    *,
    live: bool = True,
) -> None:
    """The summary under the table; the addresses to try only when the demo serves on (``live``):
    with ``--once`` the emulator and the service are gone when this is read."""
    matched = sum(outcome.ok for outcome in outcomes)
    colour = "green" if matched == len(outcomes) else "red"
    lines = [f"[{colour}]{matched} of {len(outcomes)} decisions as expected[/{colour}]", ""]
    lines += [f"MMS photo of #{o.number} stored with SHA-256 {o.sha256}" for o in outcomes if o.sha256]
    url = emulator.url
    lines += [
        f"Data:      {settings.data_dir}  (rcinbox.db, attachments/, rcinbox.toml)",
        f"Archive:   rcinbox messages --data-dir {settings.data_dir}",
    ]
    if live:
        lines += [
            f"Emulator:  {url}  (accounts, JWTs: {url}/_emulator/state)",
            f"Service:   {service.http.url}/readyz",
            "",
            "Inject another text (an allowlisted number, so it gets the reply):",
            f"  curl -s -X POST {url}/_emulator/inbound -H 'Content-Type: application/json' "
            f'-d \'{{"from": "{ALLOWLISTED}", "to": "{ALEX}", "text": "Did you get my email?"}}\'',
            f"  curl -s {url}/_emulator/outbound    # every SMS rcinbox sent",
        ]
    for line in lines:
        console.print(line, soft_wrap=True)
