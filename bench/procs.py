"""The processes a scenario measures, started as a user starts them: the emulator
(``rcinbox emulator``), rcinbox (``rcinbox run``) and baselines; and what /proc says of a process."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` (``/proc/PID/statm``), in MiB."""
    resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return resident * PAGE / 2**20


def cpu_seconds(pid: int) -> float:
    """User + system CPU time ``pid`` has used so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def wait_until(check: Any, timeout: float, what: str, every: float = 0.05) -> Any:
    """Call ``check()`` until it returns something truthy; after ``timeout``, ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


@dataclass
class Emulator:
    """A running ``rcinbox emulator`` process."""

    process: subprocess.Popen[bytes]
    url: str

    def state(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.url}/_emulator/state", timeout=10).json()
        return answer

    def env(self, extension: int | None = None) -> dict[str, str]:
        """The ``RC_*`` settings rcinbox logs in with (the first extension's JWT by default)."""
        state = self.state()
        ext = state["extensions"][0] if extension is None else _extension(state, extension)
        return {
            "RC_SERVER_URL": self.url,
            "RC_APP_CLIENT_ID": state["app"]["clientId"],
            "RC_APP_CLIENT_SECRET": state["app"]["clientSecret"],
            "RC_USER_JWT": ext["jwt"],
        }


def _extension(state: Mapping[str, Any], extension: int) -> dict[str, Any]:
    for ext in state["extensions"]:
        if ext["id"] == extension:
            found: dict[str, Any] = ext
            return found
    raise KeyError(f"no extension {extension} in the emulator")


@contextlib.contextmanager
def emulator(*flags: str, log: Path | None = None) -> Iterator[Emulator]:
    """``rcinbox emulator --port <free> FLAGS``; its log goes to ``log`` (or nowhere)."""
    port = free_port()
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [PYTHON, "-m", "rcinbox", "emulator", "--port", str(port), "--log-level", "WARNING", *flags],
        stdout=subprocess.PIPE,
        stderr=out,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        found = re.search(r"http://[\d.]+:\d+", line)
        if not found:
            raise RuntimeError(f"the emulator did not start: {line!r}")
        yield Emulator(process, found.group(0))
    finally:
        stop(process)
        if log:
            out.close()  # type: ignore[union-attr]


@dataclass
class Rcinbox:
    """A running ``rcinbox run`` process, ready (``/readyz`` answered 200)."""

    process: subprocess.Popen[bytes]
    url: str  # its local HTTP server
    data_dir: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@contextlib.contextmanager
def rcinbox(
    env: Mapping[str, str],
    data_dir: Path,
    *,
    args: Sequence[str] = (),
    log: Path | None = None,
    ready_timeout: float = 60,
    port: int | None = None,
) -> Iterator[Rcinbox]:
    """``rcinbox run`` with the user's defaults plus ``env`` (RC_*, RCINBOX_*), on ``port`` (a free
    one by default), its archive in ``data_dir``; yields once ``/readyz`` answers 200."""
    port = port or free_port()
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RC_", "RCINBOX_"))},
        "RCINBOX_PORT": str(port),
        "RCINBOX_DATA_DIR": str(data_dir),
        **env,
    }
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [PYTHON, "-m", "rcinbox", "run", *args], env=environ, stdout=out, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(process, url), ready_timeout, "rcinbox ready")
        yield Rcinbox(process, url, data_dir)
    finally:
        stop(process)
        if log:
            out.close()  # type: ignore[union-attr]


def _ready(process: subprocess.Popen[bytes], url: str) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"rcinbox exited with {process.returncode} before it was ready")
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def stop(process: subprocess.Popen[Any], timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
