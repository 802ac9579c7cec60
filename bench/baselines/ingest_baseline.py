"""Baselines of the webhook-ingest benchmark (bench/scenarios/webhook_ingest.py), on rcinbox's own
server stack: a Starlette app served by :func:`rcinbox.service.web.serve` (uvicorn configured as
rcinbox configures it: httptools, no access log, no lifespan) in a plain ``asyncio.run`` loop, as
``rcinbox run`` runs.

    python bench/baselines/ingest_baseline.py --port PORT [--sqlite PATH] [--path /hooks/rc]

``bare``: ``POST PATH`` reads the body and answers 200 (a subscription's ``Validation-Token``
handshake is echoed, as every WebHook receiver must). ``--sqlite PATH``: the same plus one
INSERT and COMMIT per event, on rcinbox's store stack (SQLAlchemy's async engine over aiosqlite,
built by :func:`rcinbox.store.engine.create_engine`: WAL, ``synchronous=NORMAL``, busy timeout,
``BEGIN IMMEDIATE`` for writes), one write transaction at a time, the envelope parsed and the row
keyed by its message id (UNIQUE, as rcinbox deduplicates). ``GET /healthz`` answers 200 once it
serves, with ``{"received": N}``: the notifications answered so far. Nothing here verifies tokens
or checks the envelope's shape: that is rcinbox's extra work.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

import orjson
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rcinbox.service.web import serve
from rcinbox.store.engine import create_engine

metadata = MetaData()
events = Table(
    "events",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("message_id", String(64), nullable=False, unique=True),
    Column("raw", Text, nullable=False),
)


def build(path: str, engine: AsyncEngine | None) -> Starlette:
    writer = asyncio.Lock()  # one write transaction at a time: they queue here, not in SQLite's busy wait

    received = 0

    async def healthz(request: Request) -> Response:
        return Response(orjson.dumps({"received": received}), media_type="application/json")

    async def bare(request: Request) -> Response:
        nonlocal received
        if (validation := request.headers.get("validation-token")) is not None:
            return Response(b"", headers={"Validation-Token": validation}, media_type="application/json")
        await request.body()
        received += 1
        return Response(b"", media_type="application/json")

    async def stored(request: Request) -> Response:
        nonlocal received
        if (validation := request.headers.get("validation-token")) is not None:
            return Response(b"", headers={"Validation-Token": validation}, media_type="application/json")
        raw = await request.body()
        envelope = orjson.loads(raw)
        assert engine is not None
        async with writer, engine.begin() as conn:
            await conn.execute(insert(events).values(message_id=envelope["body"]["id"], raw=raw.decode()))
        received += 1
        return Response(b"", media_type="application/json")

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route(path, stored if engine is not None else bare, methods=["POST"]),
        ]
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sqlite", type=Path, help="insert and commit each event into this database")
    parser.add_argument("--path", default="/hooks/rc")
    args = parser.parse_args()
    engine = None
    if args.sqlite is not None:
        engine = create_engine(f"sqlite+aiosqlite:///{args.sqlite}")
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with serve(build(args.path, engine), "127.0.0.1", args.port):
        await stop.wait()
    if engine is not None:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
