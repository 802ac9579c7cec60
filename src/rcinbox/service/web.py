"""The local HTTP server: the WebHook endpoint (webhook mode), ``GET /healthz`` and ``GET /readyz``.

``/healthz`` answers 200 while the process serves. ``/readyz`` answers 200 only when every
readiness check passes (the OAuth token is valid, the subscription is active), else 503 with
``{"ready": false, "reasons": [...]}``; either answer adds ``"waits": [...]`` while requests wait
for RingCentral's budget (each with its ``group``, ``request``, ``seconds`` left and ``reason``).
:func:`bind` takes the address first (at start, before logging in, so a taken port is reported at
once) and :func:`serve_on` later runs the app on that socket under uvicorn inside the caller's
event loop, returning once it listens (:func:`serve` does both).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from rcinbox.errors import ListenError

log = logging.getLogger("rcinbox.web")

Check = Callable[[], str | None]  # None when fine, else the reason in a few words
Waiting = Callable[[], list[dict[str, Any]]]  # the waits in progress (Waits.current)


def build_app(
    checks: Sequence[Check], extra_routes: Sequence[BaseRoute] = (), waiting: Waiting | None = None
) -> Starlette:
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        reasons = [reason for check in checks if (reason := check()) is not None]
        body: dict[str, Any] = {"ready": False, "reasons": reasons} if reasons else {"ready": True}
        if waiting is not None and (waits := waiting()):
            body["waits"] = waits
        return JSONResponse(body, status_code=503 if reasons else 200)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *extra_routes,
    ]
    return Starlette(routes=routes)


class _Server(uvicorn.Server):
    """uvicorn with a "listening" event, so callers wait on it instead of polling."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self.ready.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """The service owns SIGINT/SIGTERM, not uvicorn: uvicorn's own capture would take them
        over while it serves and raise them again when it stops, so one Ctrl-C read as two
        (the second one meaning "exit now")."""
        yield


@dataclass(frozen=True)
class Listening:
    url: str
    port: int


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (not listening yet: connections are refused until
    :func:`serve`); ``port=0`` picks a free port. :class:`~rcinbox.errors.ListenError` says why not."""
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it Nagle and delayed ACKs hold each keep-alive answer back by up to 40 ms.
    sock = socket.socket(
        socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
    )
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ListenError(host, port, exc) from None
    return sock


@contextlib.asynccontextmanager
async def serve(app: Starlette, host: str, port: int) -> AsyncIterator[Listening]:
    """Bind ``host:port`` and serve ``app`` there until the block exits; ``port=0`` picks a free port."""
    with contextlib.closing(bind(host, port)) as sock:
        async with serve_on(app, sock) as listening:
            yield listening


@contextlib.asynccontextmanager
async def serve_on(app: Starlette, sock: socket.socket) -> AsyncIterator[Listening]:
    """Serve ``app`` on the bound ``sock`` until the block exits (the caller closes the socket)."""
    host, bound = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        log_level="warning",
        log_config=None,  # uvicorn's loggers write through rcinbox's handler and format (logs.setup)
        access_log=False,
        lifespan="off",
        server_header=False,  # keeps the webhook handshake answer small (RingCentral: ≤ 1024 bytes)
        date_header=False,
        ws="none",
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"rcinbox.http:{bound}")
    ready = asyncio.create_task(server.ready.wait(), name="rcinbox.http.ready")
    try:
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not server.ready.is_set():
            task.result()
            raise ListenError(host, bound, OSError(f"the HTTP server could not listen on {host}:{bound}"))
        shown = f"[{host}]" if ":" in host else host
        log.info("HTTP server on http://%s:%d", shown, bound)
        yield Listening(f"http://{shown}:{bound}", bound)
    finally:
        ready.cancel()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
