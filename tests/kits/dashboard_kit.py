"""The dashboard's browser tests: the emulator and ``rcinbox run`` as a user starts them (two
processes), and headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

:class:`Process` reads a child's output on a thread and lets a test wait for a line (an event, no
polling). :func:`running_service` starts the emulator, then ``rcinbox run`` against it with a known
admin password (or none) and rules whose vacation window holds the real "now".
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rcinbox.emulator.envlines import env_lines
from rcinbox.emulator.runner import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ADMIN_PASSWORD = "browser-test-password"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WITHIN = 20.0  # seconds any one wait may take
ALEX, CHARLIE = "+16505550100", "+14155550100"  # the emulator's owner and one of his contacts
TIMEZONE = "America/New_York"


class Process:
    """A child process whose combined output is read line by line on a thread."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.popen = subprocess.Popen(
            args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, pattern: str, within: float = WITHIN) -> re.Match[str]:
        """The first line matching ``pattern`` (waits for it; fails when the process ends first)."""
        regex = re.compile(pattern)

        def found() -> re.Match[str] | None:
            return next((m for line in self.lines if (m := regex.search(line))), None)

        with self._changed:
            ok = self._changed.wait_for(lambda: found() or self.popen.poll() is not None, within)
            match = found()
        assert ok and match is not None, f"no line matching {pattern!r}:\n" + "\n".join(self.lines)
        return match

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self._reader.join(5)
        if self.popen.stdout is not None:
            self.popen.stdout.close()


def rules_now() -> str:
    """A vacation window around the real now, in New York."""
    now = datetime.now(UTC).astimezone(ZoneInfo(TIMEZONE)).replace(tzinfo=None)
    start = (now - timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    end = (now + timedelta(days=12)).replace(hour=8, minute=0, second=0, microsecond=0)
    fmt = "%Y-%m-%dT%H:%M:%S"
    return (
        f"[vacation]\nenabled = true\nstart = {start.strftime(fmt)}\nend = {end.strftime(fmt)}\n"
        f'timezone = "{TIMEZONE}"\n'
        'message = "Auto-reply: Hi {first_name}, I am away until {return_date}."\n'
    )


def base_env() -> dict[str, str]:
    """The test process's environment without any RingCentral or rcinbox setting of the developer's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RC_", "RCINBOX_"))}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parents[2] / "src"), os.environ.get("PYTHONPATH", "")) if p
    )
    return env


@dataclass
class Stack:
    emulator_url: str
    url: str  # the dashboard's (= the service's) address
    service: Process
    data_dir: Path


@contextlib.contextmanager
def running_service(tmp: Path, password: str | None = ADMIN_PASSWORD) -> Iterator[Stack]:
    """The emulator and ``rcinbox run`` (WebSocket) in their own processes until the block ends."""
    env = base_env()
    emu_port = free_port()
    emulator = Process(
        [sys.executable, "-m", "rcinbox", "emulator", "--port", str(emu_port), "--log-level", "WARNING"],
        env,
        tmp,
    )
    service: Process | None = None
    try:
        emulator_url = emulator.wait_for(r"RingCentral emulator on (http://\S+)").group(1)
        (tmp / "rcinbox.toml").write_text(rules_now())
        run_env = dict(env)
        for line in env_lines("127.0.0.1", emu_port, None, None):
            name, _, value = line.partition("=")
            run_env[name] = value.strip("'\"")
        if password is not None:
            run_env["RCINBOX_ADMIN_PASSWORD"] = password
        args = ["run", "--port", "0", "--data-dir", str(tmp / "data"), "--rules", str(tmp / "rcinbox.toml")]
        service = Process([sys.executable, "-m", "rcinbox", *args], run_env, tmp)
        url = service.wait_for(r"HTTP server on (http://\S+)").group(1)
        service.wait_for(r"subscribed ")  # texts injected from now on arrive over the WebSocket
        yield Stack(emulator_url, url, service, tmp / "data")
    finally:
        if service is not None:
            service.stop()
        emulator.stop()
