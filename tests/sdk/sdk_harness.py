"""Runs an official-SDK script as a subprocess and reads the JSON lines it prints (test side only).

The SDK scripts (``js/sdk_check.mjs``, ``python/sdk_check.py``) print one JSON object per line,
each with a ``step``; :class:`ScriptRun` waits for a given step with a timeout and turns an
``{"step": "error"}`` line, a crash or an early exit into an assertion that shows the script's
stderr. The emulator keeps serving in the test's event loop meanwhile (asyncio subprocess).
:meth:`ScriptRun.paused` freezes the script while the test changes the world under it.

:func:`require` is the one place that decides what a missing SDK means: a failure under
``CI=true``, a skip with a clear reason anywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import pytest

from rcinbox.emulator.model import Extension
from rcinbox.emulator.world import World

SDK_DIR = Path(__file__).resolve().parent
REPO_ROOT = SDK_DIR.parents[1]
JS_DIR = SDK_DIR / "js"
PY_DIR = SDK_DIR / "python"


def require(what: str, reason: str, environ: Mapping[str, str] = os.environ) -> NoReturn:
    """A needed SDK is not installed: fail in CI, skip elsewhere (``make sdk-deps`` installs it)."""
    if environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required in CI: {reason}", pytrace=False)
    pytest.skip(f"{what} not available ({reason}); run `make sdk-deps` to install it")


class ScriptRun:
    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self.process = process
        self.name = name
        self.lines: list[dict[str, Any]] = []
        self._stderr = asyncio.create_task(self._read_stderr())
        self._stderr_text = ""

    @classmethod
    async def start(cls, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> ScriptRun:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env={**_base_env(), **env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process, Path(argv[-1]).name)

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        data = await self.process.stderr.read()
        self._stderr_text = data.decode("utf-8", "replace")

    async def step(self, name: str, within: float = 20.0) -> dict[str, Any]:
        """The next line whose ``step`` is ``name`` (earlier steps are kept in :attr:`lines`)."""
        try:
            return await asyncio.wait_for(self._until(name), within)
        except TimeoutError:
            await self.stop()
            self._fail(f"no {name!r} line within {within} s")

    async def _until(self, name: str) -> dict[str, Any]:
        assert self.process.stdout is not None
        while True:
            raw = await self.process.stdout.readline()
            if not raw:
                await self.process.wait()
                await self._stderr
                self._fail(f"exited with {self.process.returncode} before printing {name!r}")
            try:
                line: dict[str, Any] = json.loads(raw)
            except json.JSONDecodeError:
                continue  # not one of ours (a library's console output)
            self.lines.append(line)
            if line.get("step") == "error":
                await self.stop()
                self._fail(f"reported an error: {line.get('message')}")
            if line.get("step") == name:
                return line

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """The script's process is frozen (SIGSTOP) inside the block and resumed (SIGCONT) after it:
        like a client whose network is down, it cannot see or react to anything meanwhile."""
        os.kill(self.process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            if self.process.returncode is None:
                os.kill(self.process.pid, signal.SIGCONT)

    async def finish(self, within: float = 10.0) -> int:
        try:
            code = await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            await self.stop()
            self._fail(f"did not exit within {within} s")
        await self._stderr
        return code

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        await asyncio.wait_for(self._stderr, 5)

    def _fail(self, what: str) -> NoReturn:
        printed = "\n".join(json.dumps(line) for line in self.lines)
        stderr = self._stderr_text[-4000:]
        raise AssertionError(f"{self.name} {what}\n--- stdout ---\n{printed}\n--- stderr ---\n{stderr}")


def platform_env(world: World, extension: Extension, **extra: str) -> dict[str, str]:
    """The environment an SDK script logs in with: the emulator's URL and app, and one user's JWT."""
    return {
        "RC_SERVER": world.server_url,
        "RC_CLIENT_ID": world.app.client_id,
        "RC_CLIENT_SECRET": world.app.client_secret,
        "RC_JWT": extension.jwt,
        **extra,
    }


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")
    return {key: os.environ[key] for key in keep if key in os.environ}
