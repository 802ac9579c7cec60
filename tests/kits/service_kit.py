"""Settings for a whole :class:`~rcinbox.service.app.Service` against the test's emulator, and rules
whose vacation is always on (2020 to 2099), shared by the service-level test modules."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rcinbox.emulator.runner import Running, free_port
from rcinbox.service.app import Service
from rcinbox.settings import Settings


def always_away(message: str, audience: str = "contacts") -> str:
    """A rules file whose vacation window holds any real "now" (line 5 is ``end``)."""
    return f"""
[vacation]
enabled = true
start = 2020-01-01T00:00:00
end = 2099-01-04T08:00:00
timezone = "America/New_York"
message = "{message}"
audience = "{audience}"
repeat_after = "7d"
"""


def emulator_settings(
    emu: Running, tmp_path: Path, rules_text: str, *, ext: int = 0, **changes: Any
) -> Settings:
    """Settings logged in as the emulator's extension number ``ext`` (index), on a free port, data in
    ``tmp_path/data``; ``rules_text`` is written to ``tmp_path/rcinbox.toml`` unless a test wrote that
    file first."""
    path = tmp_path / "rcinbox.toml"
    if not path.exists():
        path.write_text(rules_text, encoding="utf-8")
    world = emu.world
    values: dict[str, Any] = {
        "client_id": world.app.client_id,
        "client_secret": world.app.client_secret,
        "jwt": world.extensions[ext].jwt,
        "server_url": emu.url,
        "port": free_port(),
        "data_dir": tmp_path / "data",
        "rules": path,
    }
    return Settings(**(values | changes))


def emulator_webhook_settings(emu: Running, tmp_path: Path, rules: str) -> Settings:
    """:func:`emulator_settings` for the WebHook transport, served at ``/rc`` on its own port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/rc"
    return emulator_settings(emu, tmp_path, rules, transport="webhook", port=port, webhook_url=url)


@contextlib.contextmanager
def socket_taken(port: int) -> Iterator[None]:
    """Another program listening on ``127.0.0.1:port`` for the block."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield


async def rounds(service: Service, count: int, within: float = 10) -> None:
    """Wait until the catch-up loop has finished ``count`` rounds."""

    async def done() -> bool:
        return service.catchup.changes.count >= count

    await service.catchup.changes.until(done, within)


class LogLine(logging.Handler):
    """Sets an event when a record of ``rcinbox`` at ``level`` contains ``text``: tests wait on it."""

    def __init__(self, text: str, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.text = text
        self.seen = asyncio.Event()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if self.text in message and record.levelno == self.level:
            self.lines.append(message)
            self.seen.set()


@contextlib.contextmanager
def log_line(text: str, level: int = logging.INFO) -> Iterator[LogLine]:
    """A :class:`LogLine` on the ``rcinbox`` logger for the block."""
    handler = LogLine(text, level)
    logger = logging.getLogger("rcinbox")
    before = logger.level
    logger.addHandler(handler)
    logger.setLevel(min(level, logging.INFO))
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before)


def run_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a real ``rcinbox run`` (no ambient RC_/RCINBOX_ variables)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RC_", "RCINBOX_"))}
    return env | {
        "RC_SERVER_URL": settings.server_url,
        "RC_APP_CLIENT_ID": settings.client_id,
        "RC_APP_CLIENT_SECRET": settings.client_secret,
        "RC_USER_JWT": settings.jwt,
        "RCINBOX_DATA_DIR": str(settings.data_dir),
        "RCINBOX_RULES": str(settings.rules),
        "RCINBOX_PORT": str(settings.port),
        **extra,
    }
