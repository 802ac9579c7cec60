"""Build the emulator and serve it with uvicorn, in this process (tests, demo) or as the CLI command."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from rcinbox.emulator.api import assemble
from rcinbox.emulator.data import load
from rcinbox.emulator.server import Emulator
from rcinbox.emulator.world import Clock, Limits, World

log = logging.getLogger("rcinbox.emulator")


class ListenError(OSError):
    """The emulator cannot listen on ``host:port`` (taken, not an address of this machine, ...)."""

    def __init__(self, host: str, port: int, reason: OSError) -> None:
        super().__init__(reason.errno, reason.strerror)
        self.host, self.port = host, port
        self.in_use = reason.errno == errno.EADDRINUSE

    def advice(self) -> str:
        """One line for the user: what is wrong and which flag changes it."""
        where = f"{self.host}:{self.port}"
        if self.in_use:
            return f"{where} is already in use; pick another port with --port"
        return f"cannot listen on {where}: {self.strerror}; check --host and --port"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def server_url(host: str, port: int) -> str:
    """The URL the emulator serves on (and writes into its URIs) for ``--host``/``--port``."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else happens (as uvicorn would bind it)."""
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it Nagle and delayed ACKs hold each keep-alive answer back by up to 40 ms.
    sock = socket.socket(
        socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
    )
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ListenError(host, port, exc) from None
    return sock


def build(
    server_url: str, data: Path | None = None, limits: Limits | None = None, clock: Clock = time.time
) -> Emulator:
    """Assemble world + API modules into an :class:`Emulator` (not yet serving)."""
    app, account_id, company_numbers, extensions = load(data)
    world = World(
        server_url=server_url,
        app=app,
        account_id=account_id,
        extensions=extensions,
        limits=limits or Limits(),
        clock=clock,
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
    clock: Clock = time.time,
) -> AsyncIterator[Running]:
    """Serve an emulator until the block exits; ``port=0`` picks a free port; ``clock`` is the
    world's (tests pass one they move).

    The socket is bound first: a taken port is a :class:`ListenError` before anything else runs.
    """
    sock = bind(host, port)
    try:
        url = server_url(host, sock.getsockname()[1])
        emulator = build(url, data, limits, clock)
    except BaseException:
        sock.close()
        raise
    config = uvicorn.Config(
        emulator.asgi(),
        log_level=log_level,
        log_config=None,  # uvicorn's loggers write through rcinbox's handler (rcinbox.logs.setup)
        access_log=False,
        lifespan="on",
        ws_ping_interval=None,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"emulator:{url}")
    ready = asyncio.create_task(server.ready.wait())
    try:
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not server.ready.is_set():
            task.result()  # re-raises the startup failure
            raise RuntimeError(f"emulator could not start on {url}")
        yield Running(emulator, url)
    finally:
        ready.cancel()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
