"""One rcinbox per data directory (issue 6), with real processes: a second ``rcinbox run`` on the
same ``RCINBOX_DATA_DIR`` is refused at once, in one line naming the directory and the pid of the
one running, before it logs in or touches ``tokens.json``; read-only commands still work beside it
(``rcinbox doctor`` says who holds the directory); the lock dies with its process (``kill -9``
included), so the next start just works; a second ``rcinbox demo`` does not wipe a running one's."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from service_kit import always_away, emulator_settings, run_env
from typer.testing import CliRunner

from rcinbox.cli.doctor import data_dir_finding
from rcinbox.cli.main import app
from rcinbox.datalock import LOCK_NAME, data_dir_lock, holder
from rcinbox.emulator.runner import Running, free_port
from rcinbox.settings import Settings

READY = "rcinbox ready to run"
ADVICE = "or give this one a data directory of its own (--data-dir, RCINBOX_DATA_DIR)"
WITHIN = 20.0


class Child:
    """``python -m rcinbox run`` in a process of its own; its log lines are collected as they come."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._seen = asyncio.Event()
        self._reader = asyncio.create_task(self._read(), name="test.child.stderr")

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.lines.append(raw.decode().rstrip("\n"))
            self._seen.set()

    async def logged(self, text: str, within: float = WITHIN) -> None:
        """Wait (on the child's output) until a line contains ``text``."""
        async with asyncio.timeout(within):
            while not any(text in line for line in self.lines):
                if self._reader.done():
                    raise AssertionError(f"exited {self.proc.returncode}: {self.lines}")
                self._seen.clear()
                await self._seen.wait()

    async def ended(self, within: float = WITHIN) -> int:
        async with asyncio.timeout(within):
            await self._reader
            return await self.proc.wait()


def empty_env(directory: Path) -> Path:
    """An empty ``.env`` file: every setting comes from the environment."""
    path = directory / "empty.env"
    path.touch()
    return path


@contextlib.asynccontextmanager
async def rcinbox_run(settings: Settings, cwd: Path) -> AsyncIterator[Child]:
    """``rcinbox run`` on a port of its own; killed at the end of the block if still running."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rcinbox", "run", "--port", str(free_port()),
        "--env-file", str(empty_env(cwd)),
        env=run_env(settings), cwd=cwd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    child = Child(proc)
    try:
        yield child
    finally:
        if proc.returncode is None:
            proc.kill()
        await child.ended()


async def test_a_second_run_on_the_same_data_directory_is_refused_and_a_killed_ones_lock_is_gone(
    emu: Running, tmp_path: Path
) -> None:
    settings = emulator_settings(emu, tmp_path, always_away("Auto-reply: away."))
    data_dir = settings.data_dir.resolve()
    async with rcinbox_run(settings, tmp_path) as first:
        await first.logged(READY)
        sessions, tokens = len(emu.world.sessions), (data_dir / "tokens.json").read_bytes()
        async with rcinbox_run(settings, tmp_path) as second:
            status = await second.ended(within=10)
        args = ["messages", "--data-dir", str(data_dir), "--env-file", str(empty_env(tmp_path))]
        archive = await asyncio.to_thread(CliRunner().invoke, app, args)  # a loop of its own
        doctor = data_dir_finding(data_dir)  # doctor does not take the lock either; it says who has it
        first.proc.send_signal(signal.SIGKILL)
        assert await first.ended() == -signal.SIGKILL
        assert holder(data_dir) is None
    assert (status, second.lines) == (
        1,
        [
            f"error: another rcinbox (pid {first.proc.pid}) is already running with the data directory "
            f"{data_dir}: stop it first, {ADVICE}"
        ],
    )
    assert len(emu.world.sessions) == sessions  # the second one never logged in
    assert (data_dir / "tokens.json").read_bytes() == tokens
    assert archive.exit_code == 0, archive.output  # reading the archive needs no lock
    assert (doctor.status, doctor.detail) == (
        "ok",
        f"{data_dir} is writable; rcinbox is running on it (pid {first.proc.pid})",
    )
    async with rcinbox_run(settings, tmp_path) as third:  # the lock died with the killed process
        await third.logged(READY)
        assert (data_dir / LOCK_NAME).read_text() == f"{third.proc.pid}\n"
        third.proc.send_signal(signal.SIGINT)
        assert await third.ended() == 0, third.lines


def test_the_lock_is_reentrant_in_one_process_and_private(tmp_path: Path) -> None:
    with data_dir_lock(tmp_path) as path, data_dir_lock(tmp_path / ".") as again:
        assert path == again == tmp_path.resolve() / LOCK_NAME
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.read_text() == f"{os.getpid()}\n"
    with data_dir_lock(tmp_path):  # released, taken again
        pass


HOLD = """
import sys
from pathlib import Path
from rcinbox.cli.demo import fresh_dir
with fresh_dir(Path(sys.argv[1])) as path:
    (path / "rcinbox.db").write_text("a running demo's archive")
    print("holding", flush=True)
    sys.stdin.read()
"""


async def test_a_second_demo_does_not_wipe_the_directory_of_one_running(tmp_path: Path) -> None:
    demo_dir = (tmp_path / "demo").resolve()
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLD, str(demo_dir),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert await asyncio.wait_for(holder.stdout.readline(), WITHIN) == b"holding\n"
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rcinbox", "demo", "--once", "--data-dir", str(demo_dir),
            cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(second.communicate(), WITHIN)
    finally:
        holder.kill()
        await holder.wait()
    assert (second.returncode, output.decode()) == (
        1,
        f"error: another rcinbox (pid {holder.pid}) is already running with the data directory "
        f"{demo_dir}: stop it first, {ADVICE}\n",
    )
    assert (demo_dir / "rcinbox.db").read_text() == "a running demo's archive"
