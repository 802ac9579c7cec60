"""Dashboard: the store's dashboard reads on an archive of 100,000 texts.

The archive is the footprint scenario's (:func:`bench.scenarios.footprint.build_archive`: made by
``rcinbox db upgrade``, then bulk-filled with 100,000 decided texts from 9,000 senders; the search
index fills through its triggers as the rows go in). Each read runs through :class:`Store`, as the
dashboard calls it, in-process: one unmeasured call, then the median wall time of several.

- search: a word every text holds ("saturday": 100,000 matches, all ranked), a number in a
  person's format ("+1 415-555-1234": a few texts), a rare word beside common ones;
- the conversations' first page (one row per counterpart: every text grouped), one thread, and
  today's counts;
- the same reads of one extension (the archive's only one, so every text still counts): the
  conversations, the searches and today's counts with ``extension_id``.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import procs
from bench.contract import Figure, Scenario
from bench.scenarios.footprint import ARCHIVED, build_archive
from rcinbox.store import Store

TARGET_MS = 100  # what a page of the dashboard may spend in the database


def run(quick: bool) -> Scenario:
    timed = 3 if quick else 9
    with (
        tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp,
        procs.emulator("--no-rate-limits") as emu,
    ):
        archive = Path(tmp) / "archive"
        started = time.perf_counter()
        build_archive(emu, archive, ARCHIVED)
        built_s = time.perf_counter() - started
        runs = asyncio.run(_measure(archive / "rcinbox.db", timed))
    figures = tuple(
        Figure.of_runs(f"{name}, 100k", "ms", took, higher_is_better=False, target=TARGET_MS)
        for name, took in runs.items()
    )
    notes = (
        f"archive: {ARCHIVED:,} texts from 9,000 senders, built (migrations, bulk insert, index "
        f"through its triggers) in {built_s:.1f} s",
        f"each read: one unmeasured call, then the median of {timed}; in-process through Store "
        f"(SQLAlchemy + aiosqlite), medians: "
        + ", ".join(f"{name} {statistics.median(took):.1f} ms" for name, took in runs.items()),
    )
    return Scenario("dashboard", "Dashboard reads on a 100,000-text archive", figures, notes)


async def _measure(path: Path, times: int) -> dict[str, list[float]]:
    ext = await _extension(path)
    reads: dict[str, Callable[[Store], Awaitable[Any]]] = {
        'search "saturday" (every text)': lambda s: s.search("saturday", size=20),
        'search "+1 415-555-1234"': lambda s: s.search("+1 415-555-1234", size=20),
        'search "text number 4242"': lambda s: s.search("text number 4242", size=20),
        "conversations, page 1": lambda s: s.conversations(size=50),
        "conversations, page 20": lambda s: s.conversations(page=20, size=50),
        "thread, page 1": lambda s: s.thread("+14155551234", size=50),
        "today's counts": lambda s: s.day_counts(ZoneInfo("America/New_York")),
        'search "saturday", one extension': lambda s: s.search("saturday", extension_id=ext, size=20),
        'search "+1 415-555-1234", one extension': lambda s: s.search(
            "+1 415-555-1234", extension_id=ext, size=20
        ),
        "conversations, page 1, one extension": lambda s: s.conversations(extension_id=ext, size=50),
        "thread, page 1, one extension": lambda s: s.thread("+14155551234", extension_id=ext, size=50),
        "today's counts, one extension": lambda s: s.day_counts(
            ZoneInfo("America/New_York"), extension_id=ext
        ),
    }
    took: dict[str, list[float]] = {}
    async with await Store.open(f"sqlite+aiosqlite:///{path}", upgrade=False) as store:
        for name, read in reads.items():
            await read(store)
            took[name] = []
            for _ in range(times):
                started = time.perf_counter()
                await read(store)
                took[name].append(1000 * (time.perf_counter() - started))
    return took


async def _extension(path: Path) -> str:
    async with await Store.open(f"sqlite+aiosqlite:///{path}", upgrade=False) as store:
        page = await store.conversations(size=1)
        thread = await store.thread(page.items[0].counterpart, size=1)
    return thread.items[0].message.extension_id
