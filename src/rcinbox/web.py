"""The local HTTP server: the WebHook endpoint (webhook mode), ``GET /healthz`` and ``GET /readyz``.

``/healthz`` answers 200 while the process serves. ``/readyz`` answers 200 only when every
readiness check passes (the OAuth token is valid, the subscription is active), else 503 with
``{"ready": false, "reasons": [...]}``. :func:`serve` runs the app under uvicorn inside the
caller's event loop and returns once it listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

log = logging.getLogger("rcinbox.web")

Check = Callable[[], str | None]  # None when fine, else the reason in a few words


def build_app(checks: Sequence[Check], extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        reasons = [reason for check in checks if (reason := check()) is not None]
        if reasons:
            return JSONResponse({"ready": False, "reasons": reasons}, status_code=503)
        return JSONResponse({"ready": True})

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


@contextlib.asynccontextmanager
async def serve(app: Starlette, host: str, port: int) -> AsyncIterator[Listening]:
    """Serve ``app`` until the block exits; ``port=0`` picks a free port."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
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
            raise OSError(f"the HTTP server could not listen on {host}:{port}")
        shown = f"[{host}]" if ":" in host else host
        log.info("HTTP server on http://%s:%d", shown, bound)
        yield Listening(f"http://{shown}:{bound}", bound)
    finally:
        ready.cancel()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
        sock.close()
