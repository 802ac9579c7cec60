"""What a first-time user runs into at start (issue 6): a wait for RingCentral's Auth budget is
announced, shown in ``/readyz`` and ended at once by Ctrl-C; ``rcinbox doctor`` continues the saved
session instead of spending that budget; an unreachable server and a taken port are one line each."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from archive_kit import dump, newer_archive, refusal, v0_archive
from service_kit import LogLine, always_away, emulator_settings, log_line, run_env, socket_taken

from rcinbox.cli.doctor import diagnose
from rcinbox.cli.doctor_findings import Finding
from rcinbox.emulator import runner as emulator_runner
from rcinbox.emulator.runner import Running, free_port
from rcinbox.service import web
from rcinbox.service.app import Service, Tuning
from rcinbox.settings import Settings
from rcinbox.store import migrate
from rcinbox.transports.websocket import ReconnectPolicy

RULES = always_away("Auto-reply: away.")
TUNING = Tuning(websocket=ReconnectPolicy(base_delay=0.05, max_delay=0.2, jitter=0.0))
WSTOKEN_WAIT = "POST /restapi/oauth/wstoken waits "


def settings_for(emu: Running, tmp_path: Path, **changes: Any) -> Settings:
    return emulator_settings(emu, tmp_path, RULES, **changes)


async def start_run(settings: Settings, cwd: Path, **extra: str) -> asyncio.subprocess.Process:
    pipe = asyncio.subprocess.PIPE
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rcinbox", "run", "--env-file", os.devnull,
        env=run_env(settings, **extra), cwd=cwd, stdout=pipe, stderr=pipe,
    )  # fmt: skip


async def read_until(proc: asyncio.subprocess.Process, marker: str, within: float) -> list[str]:
    """stderr lines of ``proc`` up to the first containing ``marker``."""
    assert proc.stderr is not None
    lines: list[str] = []
    async with asyncio.timeout(within):
        while not lines or marker not in lines[-1]:
            line = await proc.stderr.readline()
            assert line, f"exited before {marker!r}: {lines}"
            lines.append(line.decode())
    return lines


async def interrupt(proc: asyncio.subprocess.Process) -> tuple[float, str]:
    """SIGINT; how long until the process exited, and the rest of its stderr."""
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    try:
        async with asyncio.timeout(30):
            _, rest = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return time.monotonic() - started, rest.decode()


@pytest.fixture
def wait_line() -> Iterator[LogLine]:
    with log_line(WSTOKEN_WAIT) as handler:
        yield handler


@pytest.fixture
async def auth_budget_of_one(emu: Running, http: httpx.AsyncClient) -> AsyncIterator[None]:
    """RingCentral's Auth group as if other clients had used 4 of the 5: the login takes the last."""
    answer = await http.post("/_emulator/faults", json={"rateLimits": {"Auth": 1}})
    assert answer.status_code == 200, answer.text
    yield


# ---- a wait for the Auth budget: announced, shown, interruptible ----


async def test_a_wait_for_the_auth_budget_is_logged_shown_in_readyz_and_ended_by_stop(
    emu: Running, auth_budget_of_one: None, wait_line: LogLine, tmp_path: Path
) -> None:
    async with Service.open(settings_for(emu, tmp_path), TUNING) as service:
        stop = asyncio.Event()
        runner = asyncio.create_task(service.run(stop), name="test.service")
        try:
            await asyncio.wait_for(wait_line.seen.wait(), timeout=10)
            async with httpx.AsyncClient(timeout=5) as client:
                ready = await client.get(service.http.url + "/readyz")
        finally:
            stop.set()
            started = time.monotonic()
            await asyncio.wait_for(runner, 10)
    stopped_in = time.monotonic() - started
    # the budget frees 60 s after the login; the wait is what is left of it when wstoken is asked
    [line] = wait_line.lines
    waited = re.fullmatch(r"POST /restapi/oauth/wstoken waits (\d+) s: Auth group budget 1/60s used", line)
    assert waited is not None, line
    assert 55 <= int(waited[1]) <= 60
    assert ready.status_code == 503
    [wait] = ready.json()["waits"]
    assert wait.pop("seconds") == pytest.approx(60, abs=3)
    assert wait == {
        "group": "Auth",
        "request": "POST /restapi/oauth/wstoken",
        "reason": "Auth group budget 1/60s used",
    }
    assert stopped_in < 2


async def test_ctrl_c_during_a_wait_for_the_auth_budget_exits_at_once(
    emu: Running, auth_budget_of_one: None, tmp_path: Path
) -> None:
    settings = settings_for(emu, tmp_path)
    proc = await start_run(settings, tmp_path)
    seen = await read_until(proc, WSTOKEN_WAIT, within=20)
    async with httpx.AsyncClient(timeout=5) as client:
        ready = await client.get(f"http://127.0.0.1:{settings.port}/readyz")
    took, rest = await interrupt(proc)
    logs = "".join(seen) + rest
    assert [w["request"] for w in ready.json()["waits"]] == ["POST /restapi/oauth/wstoken"]
    assert took < 2, logs
    assert proc.returncode == 0, logs
    assert "SIGINT: stopping" in logs
    assert "Traceback" not in logs and "never retrieved" not in logs


# ---- doctor continues the saved session ----


def login_detail(findings: list[Finding]) -> str:
    [login] = [f for f in findings if f.check == "JWT login"]
    assert login.status == "ok", login
    return login.detail


async def run_until_ready(settings: Settings, within: float) -> Service:
    async with Service.open(settings, TUNING) as service:
        stop = asyncio.Event()
        runner = asyncio.create_task(service.run(stop), name="test.service")
        try:
            await service.board.wait_until(lambda s: s.ready, within=within)
        finally:
            stop.set()
            await asyncio.wait_for(runner, 10)
    return service


async def test_doctor_twice_then_run_logs_in_once_and_never_waits_for_the_auth_budget(
    emu: Running, wait_line: LogLine, tmp_path: Path
) -> None:
    """The issue's first-time user: `rcinbox doctor` twice, then `rcinbox run`."""
    settings = settings_for(emu, tmp_path)
    first = login_detail(await diagnose(settings))
    second = login_detail(await diagnose(settings))
    service = await run_until_ready(settings, within=10)  # not the Auth budget's 60 s

    tokens = settings.data_dir / "tokens.json"
    assert first.endswith(f", session saved to {tokens} for `rcinbox run`")
    assert second.endswith(f", with the saved session ({tokens})")
    [session] = emu.world.sessions.values()  # one JWT login in all, never revoked
    assert not session.revoked
    assert (service.client.auth.logins, service.client.auth.refreshes) == (0, 0)
    assert wait_line.lines == []


async def test_doctor_continues_the_services_session_and_saves_a_refresh_back(
    emu: Running, tmp_path: Path
) -> None:
    settings = settings_for(emu, tmp_path)
    await run_until_ready(settings, within=10)  # `rcinbox run` saved its session
    tokens = settings.data_dir / "tokens.json"
    saved = json.loads(tokens.read_text())
    saved["token"]["expires_at"] = time.time() - 1  # the access token lapsed meanwhile
    tokens.write_text(json.dumps(saved))

    detail = login_detail(await diagnose(settings))
    again = login_detail(await diagnose(settings))

    [session] = emu.world.sessions.values()
    refreshed = json.loads(tokens.read_text())["token"]
    assert detail.endswith(f", with the saved session ({tokens})") and again == detail
    assert not session.revoked
    assert refreshed["refresh_token"] == session.refresh_token != saved["token"]["refresh_token"]


# ---- an unreachable server, a taken port: one line each ----


@pytest.mark.parametrize("server", ["closed-port", "http://no-such-host.invalid"])
async def test_an_unreachable_server_is_one_line_naming_it(emu: Running, server: str, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}" if server == "closed-port" else server
    settings = settings_for(emu, tmp_path, server_url=url)
    started = time.monotonic()
    proc = await start_run(settings, tmp_path)
    async with asyncio.timeout(30):
        _, err = await proc.communicate()
    took = time.monotonic() - started
    lines = err.decode().splitlines()
    assert len(lines) == 1, err.decode()
    [line] = lines
    assert line.startswith(
        f"error: cannot reach RingCentral at {url} (POST /restapi/oauth/token: ConnectError: "
    )
    assert line.endswith("); check RC_SERVER_URL and this machine's network, then run `rcinbox doctor`")
    assert proc.returncode == 1
    assert took < 15  # four quick tries (about 4 s), not a minute


async def test_ctrl_c_while_retrying_an_unreachable_server_exits_at_once(
    emu: Running, tmp_path: Path
) -> None:
    settings = settings_for(emu, tmp_path, server_url=f"http://127.0.0.1:{free_port()}")
    proc = await start_run(settings, tmp_path, RCINBOX_LOG_LEVEL="DEBUG")
    seen = await read_until(proc, "retrying (attempt 2)", within=20)
    took, rest = await interrupt(proc)
    logs = "".join(seen) + rest
    assert "POST /restapi/oauth/token: ConnectError: All connection attempts failed" in seen[-1]
    assert took < 2, logs
    assert proc.returncode == 0, logs
    assert "stopped while starting" in logs
    assert "Traceback" not in logs and "never retrieved" not in logs and "error:" not in logs


async def test_a_taken_port_is_one_line_before_any_login(emu: Running, tmp_path: Path) -> None:
    settings = settings_for(emu, tmp_path)
    with socket_taken(settings.port):
        proc = await start_run(settings, tmp_path)
        async with asyncio.timeout(30):
            _, err = await proc.communicate()
    assert err.decode() == (
        f"error: cannot listen on 127.0.0.1:{settings.port}: the port is already in use (another "
        "rcinbox?); stop what uses it, or choose a free port with RCINBOX_PORT or --port\n"
    )
    assert proc.returncode == 1
    assert emu.world.sessions == {}  # refused before logging in: no session, no Auth budget spent


@pytest.mark.parametrize("bind", [web.bind, emulator_runner.bind], ids=["service", "emulator"])
def test_the_listening_socket_says_it_is_tcp_so_answers_are_not_held_back(bind: Any) -> None:
    """asyncio sets TCP_NODELAY on accepted connections only when the listening socket's protocol
    is IPPROTO_TCP; a socket made with protocol 0 left Nagle on, and each keep-alive answer waited
    for a delayed ACK (the emulator fell from ~8,000 to 182 injected texts a second)."""
    sock = bind("127.0.0.1", 0)
    try:
        assert (sock.type, sock.proto) == (socket.SOCK_STREAM, socket.IPPROTO_TCP)
    finally:
        sock.close()


async def test_run_upgrades_an_archive_of_0_1_0_at_start(emu: Running, tmp_path: Path) -> None:
    settings = settings_for(emu, tmp_path)
    path = v0_archive(settings.data_dir)
    done = dump(path)["messages"][:3]  # decided by 0.1.0 (the fourth, an MMS, is still to decide)
    proc = await start_run(settings, tmp_path)
    lines = await read_until(proc, "rcinbox ready to run", within=30)
    await interrupt(proc)
    upgraded = f"upgraded the archive in {path} from schema version 0001 (made before versioning) to "
    assert any(upgraded + migrate.head() in line for line in lines), lines
    after = dump(path)
    assert after["alembic_version"] == [(migrate.head(),)]
    added = 3  # before_first_start (0002), announced and handed_over_at (0003)
    assert [row[:-added] for row in after["messages"][:3]] == done
    assert [row[-added] for row in after["messages"]] == [1, 0, 0, 0]  # before_first_start


async def test_run_refuses_an_archive_of_a_newer_rcinbox_in_one_line(emu: Running, tmp_path: Path) -> None:
    settings = settings_for(emu, tmp_path)
    path = newer_archive(settings.data_dir)
    before = dump(path)
    proc = await start_run(settings, tmp_path)
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    assert (proc.returncode, out, err.decode()) == (2, b"", f"error: {refusal(path)}\n")
    assert dump(path) == before
