"""uvicorn's own log lines (the service's HTTP server) go through rcinbox's handler and format."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from rcinbox import logs
from rcinbox.service.web import build_app, serve


async def test_uvicorn_writes_through_the_same_json_formatter() -> None:
    """A request uvicorn cannot read is logged by uvicorn itself (``uvicorn.error``), as JSON."""
    written = asyncio.Event()

    class Stream(io.StringIO):
        def write(self, text: str) -> int:
            written.set()
            return super().write(text)

    out = Stream()
    saved = {name: logging.getLogger(name).handlers[:] for name in ("rcinbox", "uvicorn")}
    logs.setup("INFO", out, fmt="json")
    try:
        async with serve(build_app([]), "127.0.0.1", 0) as listening:
            _reader, writer = await asyncio.open_connection("127.0.0.1", listening.port)
            writer.write(b"NOT HTTP AT ALL\r\n\r\n")
            await writer.drain()
            await asyncio.wait_for(written.wait(), 5)
            writer.close()
    finally:
        for name, handlers in saved.items():
            logging.getLogger(name).handlers[:] = handlers
    entries = [json.loads(line) for line in out.getvalue().splitlines()]  # every line is JSON
    [entry] = [e for e in entries if e["logger"].startswith("uvicorn")]
    assert {e["logger"] for e in entries} == {"rcinbox.web", "uvicorn.error"}  # "HTTP server on ..."
    assert (entry["logger"], entry["level"]) == ("uvicorn.error", "WARNING")
    assert "Invalid HTTP request" in str(entry["message"])
