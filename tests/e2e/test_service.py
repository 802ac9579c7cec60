"""The whole service against the emulator, over both transports: an inbound text is archived,
decided and answered; health and readiness; startup refusals; signals; the ``run`` command."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from round_trip_kit import ALEX, CHARLIE, RULES, TUNING, exercise, settings_for
from service_kit import (
    emulator_webhook_settings,
    log_line,
    rounds,
    socket_taken,
)
from support import outbound_to
from transport_kit import inject
from typer.testing import CliRunner

from rcinbox.cli.main import app
from rcinbox.clock import FakeClock
from rcinbox.emulator.runner import Running, free_port
from rcinbox.emulator.world import Limits
from rcinbox.errors import ListenError, RulesError
from rcinbox.service.app import Service, stop_on_signals
from rcinbox.service.catchup import CatchUpPolicy
from rcinbox.settings import FIELDS, Settings
from rcinbox.transports.webhook_subscription import TOKEN_KEY


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


async def test_websocket_service_archives_and_replies(
    emu: Running, http: httpx.AsyncClient, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    async with Service.open(settings_for(emu, tmp_path), TUNING) as service:
        await exercise(service, emu, http, client)


async def test_webhook_service_archives_and_replies(
    emu: Running, http: httpx.AsyncClient, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    port = free_port()
    settings = settings_for(
        emu, tmp_path, transport="webhook", port=port, webhook_url=f"http://127.0.0.1:{port}/hooks/rc"
    )
    async with Service.open(settings, TUNING) as service:
        await exercise(service, emu, http, client)
        [subscription] = emu.world.subscriptions.values()
    assert subscription.address == f"http://127.0.0.1:{port}/hooks/rc"


def webhook_settings(emu: Running, tmp_path: Path) -> Settings:
    return emulator_webhook_settings(emu, tmp_path, RULES)


async def test_webhook_answers_200_only_with_the_row_in_the_database(
    emu: Running, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    async with Service.open(webhook_settings(emu, tmp_path), TUNING) as service:
        token = await service.store.kv_get(TOKEN_KEY)
        assert token
        envelope = {
            "uuid": "u1",
            "event": "/restapi/v1.0/account/1/extension/101/message-store/instant?type=SMS",
            "body": {
                "id": "777",
                "to": [{"phoneNumber": ALEX, "target": True}],
                "from": {"phoneNumber": CHARLIE},
                "creationTime": "2026-11-27T16:00:00.000Z",
                "subject": "stored before the 200?",
            },
        }
        url = service.settings.webhook_url or ""
        response = await client.post(url, json=envelope, headers={"Verification-Token": token})
        stored = await service.store.find_message("101", "777")
        refused = await client.post(url, json=envelope | {"uuid": "u2"}, headers={"Verification-Token": "x"})
        entries = await service.store.recent()
    assert (response.status_code, response.content) == (200, b"")
    assert stored is not None and (stored.text, stored.source) == ("stored before the 200?", "webhook")
    assert refused.status_code == 403
    assert [e.message_id for e in entries] == ["777"]


async def test_webhook_restart_keeps_the_subscription_and_its_token(emu: Running, tmp_path: Path) -> None:
    settings = webhook_settings(emu, tmp_path)
    ids = []
    for _ in range(2):
        async with Service.open(settings, TUNING) as service:
            stop = asyncio.Event()
            runner = asyncio.create_task(service.run(stop), name="test.service")
            status = await service.board.wait_until(lambda s: s.ready, within=10)
            ids.append((status.subscription_id, await service.store.kv_get(TOKEN_KEY)))
            stop.set()
            await asyncio.wait_for(runner, 10)
    [subscription] = emu.world.subscriptions.values()
    assert ids[0] == ids[1]
    assert (subscription.id, subscription.verification_token) == ids[0]


async def test_not_ready_until_subscribed_but_healthy(
    emu: Running, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    async with Service.open(settings_for(emu, tmp_path), TUNING) as service:
        health = await client.get(service.http.url + "/healthz")
        ready = await client.get(service.http.url + "/readyz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (503, {"ready": False, "reasons": ["websocket: starting"]})


async def test_invalid_rules_are_refused_before_anything_starts(emu: Running, tmp_path: Path) -> None:
    rules = tmp_path / "rcinbox.toml"
    rules.write_text(RULES.replace('audience = "contacts"', 'audience = "friends"'))
    with pytest.raises(RulesError) as refused:
        async with Service.open(settings_for(emu, tmp_path), TUNING):
            pass
    assert refused.value.line == 8
    assert "audience" in refused.value.reason
    assert emu.world.sessions == {}  # no login happened


async def test_a_failed_start_closes_what_was_opened(emu: Running, tmp_path: Path) -> None:
    settings = settings_for(emu, tmp_path)
    with socket_taken(settings.port), pytest.raises(ListenError):
        async with Service.open(settings, TUNING):
            pass
    async with Service.open(settings, TUNING) as again:  # the store and the session are reusable
        assert again.http.port == settings.port
    assert len(emu.world.sessions) == 1  # the port is checked before logging in


async def test_signals_set_stop() -> None:
    stop = asyncio.Event()
    with stop_on_signals(stop):
        os.kill(os.getpid(), signal.SIGTERM)
        async with asyncio.timeout(5):
            await stop.wait()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


async def test_a_repeated_sigterm_keeps_stopping_gracefully() -> None:
    """make and timeout forward SIGTERM to a child that already got it from the process group."""
    stop, again = asyncio.Event(), asyncio.Event()
    heard = logging.Handler()
    heard.emit = lambda record: again.set() if record.getMessage() == "SIGTERM: already stopping" else None  # type: ignore[method-assign]
    logger = logging.getLogger("rcinbox.service")
    logger.addHandler(heard)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        with stop_on_signals(stop):
            os.kill(os.getpid(), signal.SIGTERM)
            async with asyncio.timeout(5):
                await stop.wait()
                os.kill(os.getpid(), signal.SIGTERM)  # would raise out of the loop if taken as "force"
                await again.wait()
    finally:
        logger.removeHandler(heard)
        logger.setLevel(level)
    assert stop.is_set()


SECOND_CTRL_C = """
import asyncio, os, signal, sys
from rcinbox.service.app import stop_on_signals

async def main():
    stop = asyncio.Event()
    with stop_on_signals(stop):
        os.kill(os.getpid(), signal.SIGINT)
        await stop.wait()
        print("stopping", flush=True)
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.Event().wait()  # a shutdown that hangs: only the second Ctrl-C ends it

asyncio.run(main())
"""


def test_a_second_ctrl_c_exits_at_once_without_a_traceback() -> None:
    done = subprocess.run([sys.executable, "-c", SECOND_CTRL_C], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (130, "stopping\n")
    assert "Traceback" not in done.stderr


def test_run_help_names_every_variable() -> None:
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    missing = [f.env for f in FIELDS if f.env not in result.output]
    assert missing == []


@pytest.mark.parametrize(
    ("flags", "env", "line"),
    [
        (["--port", "http"], {}, "--port must be a port number 0-65535, got 'http'"),
        ([], {"RCINBOX_LOG_FORMAT": "jsn"}, "RCINBOX_LOG_FORMAT must be one of text, json, got 'jsn'"),
        ([], {"RCINBOX_METRICS_PUBLIC": "yep"}, "RCINBOX_METRICS_PUBLIC must be true or false, got 'yep'"),
        (["--metrics-public", "maybe"], {}, "--metrics-public must be true or false, got 'maybe'"),
    ],
)
def test_run_refuses_bad_settings_in_one_line(flags: list[str], env: dict[str, str], line: str) -> None:
    args = ["run", "--env-file", os.devnull, "--client-id", "a", "--client-secret", "b"]
    result = CliRunner().invoke(app, [*args, "--jwt", "c", *flags], env={"RC_SERVER_URL": None, **env})
    assert result.exit_code == 2
    assert result.output == f"error: {line}\n"


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_rcinbox_run_serves_until_sigint_and_logs_no_secret(
    emu: Running, http: httpx.AsyncClient, client: httpx.AsyncClient, tmp_path: Path, log_format: str
) -> None:
    """The whole log of a run at DEBUG, in either format, holds no credential; in JSON every
    line of it is one JSON object."""
    settings = settings_for(emu, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RC_", "RCINBOX_"))}
    env |= {
        "RC_SERVER_URL": emu.url,
        "RC_APP_CLIENT_ID": settings.client_id,
        "RC_APP_CLIENT_SECRET": settings.client_secret,
        "RC_USER_JWT": settings.jwt,
        "RCINBOX_DATA_DIR": str(settings.data_dir),
        "RCINBOX_RULES": str(settings.rules),
        "RCINBOX_LOG_LEVEL": "DEBUG",
        "RCINBOX_LOG_FORMAT": log_format,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rcinbox", "run", "--port", str(settings.port),
        env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with asyncio.timeout(20):  # a bounded poll: the child process exposes no event
            while True:
                if await _readyz(client, settings.port) == 200:
                    break
                await asyncio.sleep(0.1)
        await inject(http, ALEX, "hello from a real process", sender=CHARLIE)
        [reply] = await outbound_to(emu, http, CHARLIE)
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(15):
            _, stderr = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    logs = stderr.decode()
    assert proc.returncode == 0, logs
    assert reply["text"] == "Auto-reply: Hi Charlie, I'm away for a while."
    sessions = emu.world.sessions.values()
    secrets = [
        settings.jwt,
        settings.client_secret,
        *(s.access_token for s in sessions),
        *(s.refresh_token for s in sessions),
        *(t.token for t in emu.world.ws_tokens.values()),  # WebSocket tokens still on record
    ]
    assert [s for s in secrets if s in logs] == []
    if log_format == "text":
        assert "SIGINT: stopping" in logs
        return
    entries = [json.loads(line) for line in logs.splitlines()]  # every line is one object
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["time"]) for e in entries)
    assert any(e["message"] == "SIGINT: stopping" and e["logger"] == "rcinbox.service" for e in entries)
    decided = [e for e in entries if e.get("action") == "message.decided"]
    assert [(e["decision"], e["reason"]) for e in decided] == [("reply", "replied")]


async def _readyz(client: httpx.AsyncClient, port: int) -> int:
    try:
        return (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code
    except httpx.TransportError:
        return 0


@pytest.mark.parametrize("limits", [Limits(access_ttl=3, refresh_ttl=3600)])
async def test_readyz_stays_ready_on_a_quiet_line_past_the_access_tokens_life(
    emu: Running, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Nothing calls the API on a quiet WebSocket line; the session must stay valid all the same
    (found by the issue-3 audit: /readyz went 503 once the first access token expired)."""
    clock = FakeClock()
    async with Service.open(settings_for(emu, tmp_path), replace(TUNING, clock=clock)) as service:
        stop = asyncio.Event()
        runner = asyncio.create_task(service.run(stop), name="test.service")
        try:
            await service.board.wait_until(lambda s: s.ready, within=10)
            await rounds(service, 1)  # the catch-up after subscribing: from now on the line is quiet
            first = service.client.auth.token
            assert first is not None
            clock.advance(first.expires_at - clock.time() + 0.5)  # past the first access token's life
            ready = await readyz_until(client, service.http.url, 200, within=5)
            refreshed = service.client.auth.token
        finally:
            stop.set()
            await asyncio.wait_for(runner, 10)
    assert ready == {"ready": True}
    assert refreshed is not None and refreshed.access_token != first.access_token
    assert service.client.auth.logins <= 1  # renewed by refresh, not by new sessions


def test_run_refuses_an_invalid_rules_file_with_its_line_and_reason(tmp_path: Path) -> None:
    rules = tmp_path / "rcinbox.toml"
    rules.write_text(RULES.replace("end = 2099-01-04T08:00:00", "end = 2019-01-04T08:00:00"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RC_", "RCINBOX_"))}
    env |= {"RC_SERVER_URL": "http://127.0.0.1:9", "RC_APP_CLIENT_ID": "a", "RC_APP_CLIENT_SECRET": "b"}
    env |= {"RC_USER_JWT": "c", "RCINBOX_RULES": str(rules), "RCINBOX_DATA_DIR": str(tmp_path / "data")}
    # A process of its own: ``run`` sets up logging for the whole process.
    done = subprocess.run(
        [sys.executable, "-m", "rcinbox", "run", "--env-file", os.devnull],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"error: {rules}:5: vacation.end must be after vacation.start\n"
    assert not (tmp_path / "data").exists()  # refused before anything started


async def readyz_until(
    client: httpx.AsyncClient, url: str, status: int, within: float, clock: FakeClock | None = None
) -> Any:
    """``/readyz`` has no event to wait on: a bounded poll until it answers ``status``; with a
    ``clock``, each poll moves it 10 s on (the service's retries and its paced requests wait on it)."""
    async with asyncio.timeout(within):
        while True:
            response = await client.get(url + "/readyz")
            if response.status_code == status:
                return response.json()
            if clock is not None:
                clock.advance(10)
            await asyncio.sleep(0.05)


async def advance_until(clock: FakeClock, event: asyncio.Event, within: float) -> None:
    """Move ``clock`` on 10 s at a time (the service's retries wait on it) until ``event``."""
    async with asyncio.timeout(within):
        while not event.is_set():
            clock.advance(10)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=0.05)


@pytest.mark.parametrize("limits", [Limits(access_ttl=3, refresh_ttl=3600)])
async def test_readyz_is_503_while_the_session_cannot_be_renewed_and_recovers(
    emu: Running, http: httpx.AsyncClient, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    token = {"method": "POST", "path": "/restapi/oauth/token", "status": 500, "count": 100_000}
    clock = FakeClock()
    # No periodic catch-up (its API call would renew the session too): the upkeep alone must.
    tuning = replace(TUNING, clock=clock, catchup=CatchUpPolicy(interval=10**9))
    async with Service.open(settings_for(emu, tmp_path), tuning) as service:
        stop = asyncio.Event()
        runner = asyncio.create_task(service.run(stop), name="test.service")
        try:
            await service.board.wait_until(lambda s: s.ready, within=10)
            await rounds(service, 1)  # the catch-up after subscribing: from now on the line is quiet
            assert (await http.post("/_emulator/faults", json={"http": [token]})).status_code == 200
            with log_line("scheduled session refresh failed", logging.ERROR) as failed:
                clock.advance(3.5)  # the access token (3 s) expires; its scheduled refresh gets 500s
                down = await readyz_until(client, service.http.url, 503, within=5)
                await advance_until(clock, failed.seen, within=10)  # every retry of it failed
            health = await client.get(service.http.url + "/healthz")
            assert (await http.delete("/_emulator/faults")).status_code in (200, 204)
            back = await readyz_until(client, service.http.url, 200, within=10, clock=clock)
        finally:
            stop.set()
            await asyncio.wait_for(runner, 10)
    assert down == {"ready": False, "reasons": ["no valid access token"]}
    assert health.status_code == 200
    assert back == {"ready": True}
