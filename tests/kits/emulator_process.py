"""``rcinbox emulator`` as a user runs it, in its own process (the CLI tests)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import AsyncIterator


def command(*args: str, port: int = 0) -> list[str]:
    return [sys.executable, "-m", "rcinbox", "emulator", "--port", str(port), "--log-level", "WARNING", *args]


@contextlib.asynccontextmanager
async def served(*args: str, port: int = 0) -> AsyncIterator[str]:
    """The CLI's emulator; yields its URL (read from the first line it prints)."""
    process = await asyncio.create_subprocess_exec(
        *command(*args, port=port), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        found = re.search(r"http://[\d.]+:\d+", line)
        assert found, line
        yield found.group(0)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
