"""Footprint: what rcinbox costs while it waits, and how fast its commands answer.

- Idle RSS (MiB) and CPU (% of one core) of ``rcinbox run`` (WebSocket, the user's defaults)
  against the emulator, once ready and settled, read from /proc over a window; beside the same
  read of a program written the way RingCentral's guide sample is (official ``ringcentral``
  Python SDK, JWT login, one WebSocket subscription: ``bench/baselines/sdk_sample.py``, run in the
  SDK's virtualenv, ``RCINBOX_SDK_PYTHON``). Interleaved, ``runs`` times; medians.
- RSS growth with 100,000 archived messages: ``rcinbox run`` started on an archive of 100,000
  texts, each with its decision (built by bulk insert through rcinbox's own schema, after
  ``rcinbox db upgrade`` made it: its migrations), minus the idle RSS of the same run set.
- ``rcinbox --help`` and ``rcinbox messages --limit 50`` (on that archive): wall time of the
  venv's ``rcinbox`` script run as a subprocess, as a user runs it; one unmeasured run first, then
  the median of several.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import JSON, Table

from bench import procs
from bench.contract import Figure, Scenario
from bench.scenarios._notifications import envelope
from rcinbox.store import chain
from rcinbox.store.schema import decisions, kv, messages

SAMPLE = Path(__file__).parents[1] / "baselines" / "sdk_sample.py"
ARCHIVED = 100_000


def run(quick: bool) -> Scenario:
    runs, settle, window, timed = (1, 1.0, 3.0, 3) if quick else (3, 5.0, 15.0, 7)
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    loaded: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-footprint-") as tmp,
        procs.emulator("--no-rate-limits") as emu,
    ):
        where = Path(tmp)
        archive = where / "archive"
        build_archive(emu, archive, ARCHIVED)
        for i in range(runs):
            ours.append(idle_rcinbox(emu, where / f"idle-{i}", settle, window))
            theirs.append(idle_sample(emu, settle, window))
            loaded.append(idle_rcinbox(emu, archive, settle, window)[0])
        help_ms = timed_runs([*rcinbox_command(), "--help"], timed)
        list_ms = timed_runs(
            [*rcinbox_command(), "messages", "--limit", "50", "--data-dir", str(archive)], timed
        )
    growth = [big - small for big, (small, _) in zip(loaded, ours, strict=True)]
    figures = (
        Figure.of_runs(
            "idle RSS",
            "MiB",
            [rss for rss, _ in ours],
            higher_is_better=False,
            baseline_runs=[rss for rss, _ in theirs],
            baseline_name="SDK sample (Python)",
            target=60,
        ),
        Figure.of_runs(
            "idle CPU",
            "%",
            [cpu for _, cpu in ours],
            higher_is_better=False,
            baseline_runs=[cpu for _, cpu in theirs],
            baseline_name="SDK sample (Python)",
            target=0.5,
        ),
        Figure.of_runs("RSS growth, 100k archived", "MiB", growth, higher_is_better=False, target=10),
        Figure.of_runs("`rcinbox --help`", "ms", help_ms, higher_is_better=False, target=150),
        Figure.of_runs(
            "`rcinbox messages --limit 50`, 100k", "ms", list_ms, higher_is_better=False, target=250
        ),
    )
    notes = (
        f"idle: {settle:g} s to settle once ready, then RSS at the end of a {window:g} s window and "
        f"CPU over it (/proc), {runs} interleaved run(s) each of rcinbox and the SDK sample; medians; "
        "the emulator's rate limits are lifted (these runs open more sessions a minute than the Auth "
        "group's 5 allow, and waiting for it is no part of the footprint)",
        "RSS with 100k archived: "
        + ", ".join(f"{mib:.1f}" for mib in loaded)
        + " MiB (idle: "
        + ", ".join(f"{rss:.1f}" for rss, _ in ours)
        + " MiB)",
        f"command wall times: median of {timed} runs after one unmeasured run "
        f"({' '.join(rcinbox_command())})",
    )
    return Scenario("footprint", "Footprint: idle, 100k archive, command start-up", figures, notes)


def idle_rcinbox(emu: procs.Emulator, data_dir: Path, settle: float, window: float) -> tuple[float, float]:
    """(RSS MiB, CPU %) of ``rcinbox run`` (WebSocket, defaults) once ready and settled."""
    with procs.rcinbox(emu.env(), data_dir, log=data_dir.parent / f"{data_dir.name}.log") as app:
        return settled(app.pid, settle, window)


def idle_sample(emu: procs.Emulator, settle: float, window: float) -> tuple[float, float]:
    """(RSS MiB, CPU %) of the guide-style SDK sample once subscribed and settled."""
    with sdk_sample(emu) as pid:
        return settled(pid, settle, window)


def settled(pid: int, settle: float, window: float) -> tuple[float, float]:
    time.sleep(settle)
    before = procs.cpu_seconds(pid)
    started = time.monotonic()
    time.sleep(window)
    cpu = procs.cpu_seconds(pid) - before
    return procs.rss_mib(pid), 100 * cpu / (time.monotonic() - started)


def sdk_python() -> str:
    chosen = os.environ.get("RCINBOX_SDK_PYTHON") or str(Path(__file__).parents[2] / ".venv-sdk/bin/python")
    if not Path(chosen).exists():
        raise RuntimeError(f"no SDK virtualenv at {chosen}: run `make sdk-deps` (RCINBOX_SDK_PYTHON)")
    return chosen


@contextmanager
def sdk_sample(emu: procs.Emulator) -> Iterator[int]:
    env = emu.env()
    before = _websocket_subscriptions(emu)
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RC_", "RCINBOX_", "PYTHONPATH"))},
        "RC_SERVER": env["RC_SERVER_URL"],
        "RC_CLIENT_ID": env["RC_APP_CLIENT_ID"],
        "RC_CLIENT_SECRET": env["RC_APP_CLIENT_SECRET"],
        "RC_JWT": env["RC_USER_JWT"],
        "SAMPLE_REPLY": "Auto-reply: away",
    }
    process = subprocess.Popen(
        [sdk_python(), str(SAMPLE)], env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        procs.wait_until(
            lambda: _subscribed(process, emu, before), 60, "the SDK sample subscribed", every=0.2
        )
        yield process.pid
    finally:
        procs.stop(process)


def _websocket_subscriptions(emu: procs.Emulator) -> int:
    subs = emu.state()["subscriptions"]
    return sum(1 for s in subs if s["transportType"] == "WebSocket" and s["status"] == "Active")


def _subscribed(process: subprocess.Popen[bytes], emu: procs.Emulator, before: int) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"the SDK sample exited with {process.returncode}")
    try:
        return _websocket_subscriptions(emu) > before
    except httpx.TransportError:
        return False


def rcinbox_command() -> list[str]:
    """The ``rcinbox`` script of this interpreter's virtualenv (``python -m rcinbox`` without one)."""
    script = Path(sys.executable).parent / "rcinbox"
    return [str(script)] if script.exists() else [procs.PYTHON, "-m", "rcinbox"]


def timed_runs(command: list[str], times: int) -> list[float]:
    """Wall time (ms) of ``command`` run ``times`` times after one unmeasured run."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("RC_", "RCINBOX_"))}
    took: list[float] = []
    for i in range(times + 1):
        started = time.perf_counter()
        done = subprocess.run(command, env=environ, capture_output=True, check=False, timeout=60)
        elapsed = 1000 * (time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} exited with {done.returncode}: {done.stderr.decode()[-300:]}"
            )
        if i:
            took.append(elapsed)
    return took


def build_archive(emu: procs.Emulator, data_dir: Path, count: int) -> None:
    """``data_dir/rcinbox.db`` made by ``rcinbox db upgrade`` (rcinbox's migrations), then filled
    with ``count`` archived texts, each decided (a suppression, hash-chained as rcinbox chains them)."""
    subprocess.run(
        [*rcinbox_command(), "db", "upgrade", "--data-dir", str(data_dir)],
        env={k: v for k, v in os.environ.items() if not k.startswith(("RC_", "RCINBOX_"))},
        capture_output=True,
        check=True,
        timeout=60,
    )
    state = emu.state()
    owner = state["extensions"][0]
    number = owner["phoneNumbers"][0]
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=120)
    message_rows: list[dict[str, Any]] = []
    decision_rows: list[dict[str, Any]] = []
    prev = chain.GENESIS
    for pk in range(1, count + 1):
        at = start + dt.timedelta(seconds=100 * pk)
        sender = f"+1415555{1000 + pk % 9000}"
        text = f"Hello, this is text number {pk}: is the shop open on Saturday?"
        raw = envelope(
            state,
            "archive",
            message_id=str(5_000_000 + pk),
            uuid=str(10**18 + pk),
            sender=sender,
            text=text,
            at=at,
        )
        message_rows.append(_message_row(pk, raw, owner["id"], state["account"]["id"], number, at))
        values = {
            "message_pk": pk,
            "action": "suppress",
            "reason": "not-a-contact",
            "reply_text": None,
            "reply_from": None,
            "reply_to": None,
            "handle": sender,
            "facts": {"sender": sender, "contact": False},
            "decided_at": at + dt.timedelta(milliseconds=40),
        }
        row = {**values, "message_sha256": chain.message_digest(raw), "prev_hash": prev}
        row["hash"] = prev = chain.link(prev, row)
        decision_rows.append(row)
    conn = sqlite3.connect(data_dir / "rcinbox.db")
    try:
        with conn:
            _insert(conn, messages, message_rows)
            _insert(conn, decisions, decision_rows)
            conn.execute("DELETE FROM kv WHERE key = ?", (chain.HEAD_KEY,))
            _insert(conn, kv, [{"key": chain.HEAD_KEY, "value": prev, "updated_at": dt.datetime.now(dt.UTC)}])
    finally:
        conn.close()


def _insert(conn: sqlite3.Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows as SQLAlchemy's SQLite dialect stores them (JSON text, naive UTC date-times), by
    ``executemany``: the archive is bulk-built, not written row by row through the service."""
    names = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}

    def value(name: str, item: Any) -> Any:
        if name in json_columns:
            return json.dumps(item)
        if isinstance(item, dt.datetime):
            return item.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return item

    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    conn.executemany(sql, ([value(n, row[n]) for n in names] for row in rows))


def _message_row(
    pk: int, raw: dict[str, object], extension: int, account: int, number: str, at: dt.datetime
) -> dict[str, object]:
    body: dict[str, object] = raw["body"]  # type: ignore[assignment]
    return {
        "id": pk,
        "extension_id": str(extension),
        "message_id": body["id"],
        "account_id": str(account),
        "direction": "Inbound",
        "sender": body["from"]["phoneNumber"],  # type: ignore[index]
        "sender_name": None,
        "recipients": body["to"],
        "receiving_number": number,
        "text": body["subject"],
        "conversation_id": body["conversation"]["id"],  # type: ignore[index]
        "created_at": at,
        "received_at": at + dt.timedelta(milliseconds=20),
        "source": "websocket",
        "raw": raw,
        "state": "done",
        "attempts": 1,
        "next_attempt_at": None,
        "last_error": None,
        "updated_at": at + dt.timedelta(milliseconds=40),
        "before_first_start": False,
        "announced": [],
        "handed_over_at": at + dt.timedelta(milliseconds=10),
    }
