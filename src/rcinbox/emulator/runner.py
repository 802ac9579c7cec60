"""Build the emulator and serve it with uvicorn, in this process (tests, demo) or as the CLI command."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from rcinbox.emulator.data import load
from rcinbox.emulator.server import Emulator
from rcinbox.emulator.world import Limits, World

log = logging.getLogger("rcinbox.emulator")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def build(server_url: str, data: Path | None = None, limits: Limits | None = None) -> Emulator:
    """Assemble world + API modules into an :class:`Emulator` (not yet serving)."""
    from rcinbox.emulator.api import assemble

    app, account_id, company_numbers, extensions = load(data)
    world = World(
        server_url=server_url,
        app=app,
        account_id=account_id,
        extensions=extensions,
        limits=limits or Limits(),
        company_numbers=company_numbers,
    )
    return assemble(world)


class _Server(uvicorn.Server):
    """uvicorn's server with an event for "listening", so callers wait on it instead of polling."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self.ready.set()


@dataclass
class Running:
    emulator: Emulator
    url: str

    @property
    def world(self) -> World:
        return self.emulator.world


@contextlib.asynccontextmanager
async def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    data: Path | None = None,
    limits: Limits | None = None,
    log_level: str = "warning",
) -> AsyncIterator[Running]:
    """Serve an emulator until the block exits; ``port=0`` picks a free port."""
    port = port or free_port(host)
    url = f"http://{host}:{port}"
    emulator = build(url, data, limits)
    config = uvicorn.Config(
        emulator.asgi(),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        ws_ping_interval=None,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(), name=f"emulator:{port}")
    ready = asyncio.create_task(server.ready.wait())
    try:
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not server.ready.is_set():
            task.result()  # re-raises the startup failure
            raise RuntimeError(f"emulator could not listen on {host}:{port}")
        yield Running(emulator, url)
    finally:
        ready.cancel()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
