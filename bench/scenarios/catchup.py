"""Catch-up after an outage: texts that arrived while rcinbox was stopped, found by message-sync.

A run: a fresh emulator with every rate limit raised to 1,000,000 per window (see
:func:`bench.scenarios._replying.lift_limits`); rcinbox started once and stopped (so the texts
that follow are not "before its first start", which are archived but never answered); ``N`` texts
from distinct senders posted while it is down; rcinbox started again on the same data directory,
as a user restarts it. Its message-sync finds the texts.

- archived/s: N / (the moment rcinbox's SQLite holds all N messages - the moment it held the
  first), the archive read every 50 ms from a thread started just before ``rcinbox run``;
- replies/s: N / (the last reply's ``creationTime`` - the moment ``rcinbox run`` was started),
  the rate the lifted limits allow being far above it;
- the progress line: how many log lines during the catch-up say how far it got (a count, a rate
  and what remains), and the longest gap between two of them.

Baseline, interleaved run by run: N rows of the same size inserted into a fresh SQLite database by
one process, one insert and commit each, with rcinbox's PRAGMAs (WAL, synchronous=NORMAL).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from bench import procs
from bench.contract import Figure, Scenario
from bench.scenarios import _replying as r

# A progress line is about the catch-up (or message-sync) and says what remains; matched loosely
# ("remaining", "left", "to go"): the wording is the service's.
PROGRESS = re.compile(r"(?i)(?=.*(catch.?up|sync))(?=.*(remain|left|to go))")
_CLOCK = re.compile(r"^(\d\d):(\d\d):(\d\d) ")


def run(quick: bool) -> Scenario:
    n = 300 if quick else 5000
    runs = 1 if quick else 3
    results, bare = [], []
    for i in range(runs):
        results.append(_run(n, i))
        bare.append(_bare_sqlite(n))
    lines = [x["progress"] for x in results]
    gaps = [x["gap"] for x in results]
    return Scenario(
        name="catchup",
        title=f"Catch-up of {n} texts after an outage",
        figures=(
            Figure.of_runs(
                "archived/s",
                "/s",
                [x["archived"] for x in results],
                higher_is_better=True,
                baseline_runs=bare,
                baseline_name="bare SQLite, insert+commit per row",
                target=500,
            ),
            Figure.of_runs(
                "replies/s during catch-up", "/s", [x["replies"] for x in results], higher_is_better=True
            ),
            Figure.of_runs(
                "all answered after start", "s", [x["answered"] for x in results], higher_is_better=False
            ),
            Figure.of_runs("progress lines in the log", "", lines, higher_is_better=True),
        ),
        notes=(
            f"{runs} run(s); limits lifted; {n} texts posted while rcinbox was stopped",
            "progress line (count, rate, remaining) during catch-up: "
            + ("present" if all(lines) else "absent" if not any(lines) else "in some runs only")
            + (f", longest gap {max(gaps):.0f} s" if any(lines) else ""),
            "archiving started " + ", ".join(f"{x['first']:.1f}" for x in results) + " s after `rcinbox run`",
            "the machine (2 cores) was shared with other work",
        ),
    )


def _run(n: int, i: int) -> dict[str, Any]:
    with r.workdir(f"catchup-{i}") as tmp, procs.emulator() as emulator:
        directory = Path(tmp)
        r.lift_limits(emulator)
        with r.rcinbox(emulator, directory) as first:
            # Stopped only once its first message-sync is recorded: else the next start would be
            # the first again, and the texts "before its first start".
            procs.wait_until(lambda: _synced(first.data_dir, directory / "rcinbox.log"), 60, "the first sync")
        numbers = r.senders(n)
        r.inject(emulator.url, r.texts(numbers))
        log = directory / "rcinbox.log"
        mark = log.stat().st_size
        replies = r.Replies(emulator.url, r.last_outbound_id(emulator.url))
        sampler = _Sampler(directory / "data", n)
        started = time.time()
        sampler.start()
        try:
            with r.rcinbox(emulator, directory):
                sampler.join(timeout=60 + n / 20)
                answered = replies.wait(numbers, timeout=120 + n / 5)
        finally:
            sampler.stop.set()
            replies.close()
        text = log.read_bytes()[mark:].decode(errors="replace")
    if sampler.first is None or sampler.done is None:
        raise RuntimeError(f"the archive did not reach {n} messages")
    progress = [line for line in text.splitlines() if PROGRESS.search(line)]
    last = max(answered.values())
    return {
        "archived": n / max(sampler.done - sampler.first, 1e-3),
        "first": sampler.first - started,
        "replies": n / (last - started),
        "answered": last - started,
        "progress": len(progress),
        "gap": _longest_gap(progress),
    }


def _synced(data_dir: Path, log: Path) -> bool:
    recorded = "SELECT count(*) FROM kv WHERE key LIKE 'catchup.%sync_token'"
    return r.count(data_dir, recorded) > 0 or "caught up" in log.read_text(errors="replace")


class _Sampler(threading.Thread):
    """Reads how many messages rcinbox's archive holds every 50 ms: when the first one and the
    ``n``-th one were there."""

    def __init__(self, data_dir: Path, n: int) -> None:
        super().__init__(daemon=True)
        self.data_dir, self.n = data_dir, n
        self.first: float | None = None
        self.done: float | None = None
        self.stop = threading.Event()
        self.baseline = r.count(data_dir, "SELECT count(*) FROM messages")

    def run(self) -> None:
        while not self.stop.is_set():
            held = r.count(self.data_dir, "SELECT count(*) FROM messages") - self.baseline
            now = time.time()
            if held > 0 and self.first is None:
                self.first = now
            if held >= self.n:
                self.done = now
                return
            time.sleep(0.05)


def _longest_gap(lines: list[str]) -> float:
    """The longest time between two consecutive log lines (their HH:MM:SS), 0 for fewer than two."""
    stamps = []
    for line in lines:
        match = _CLOCK.match(line)
        if match:
            h, m, s = (int(g) for g in match.groups())
            stamps.append(h * 3600 + m * 60 + s)
    return float(max((b - a) % 86400 for a, b in itertools.pairwise(stamps))) if len(stamps) > 1 else 0.0


def _bare_sqlite(n: int) -> float:
    """Rows per second: ``n`` rows like an archived text, one insert and commit each."""
    raw = json.dumps({"body": {"subject": r.text(0), "padding": "x" * 900}})
    with r.workdir("catchup-bare") as tmp:
        db = sqlite3.connect(Path(tmp) / "bare.db", isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE messages (id INTEGER PRIMARY KEY, message_id TEXT UNIQUE, sender TEXT, "
                "text TEXT, created_at TEXT, raw TEXT)"
            )
            started = time.perf_counter()
            for k in range(n):
                db.execute("BEGIN")
                db.execute(
                    "INSERT INTO messages (message_id, sender, text, created_at, raw) VALUES (?, ?, ?, ?, ?)",
                    (
                        str(10**12 + k),
                        f"+1415200{k:04d}",
                        r.text(k),
                        dt.datetime.now(dt.UTC).isoformat(),
                        raw,
                    ),
                )
                db.execute("COMMIT")
            return n / (time.perf_counter() - started)
        finally:
            db.close()
