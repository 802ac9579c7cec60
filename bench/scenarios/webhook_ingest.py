"""Webhook ingest: how many WebHook deliveries a second rcinbox takes at 32 concurrent connections,
each event stored before its 200, beside the same server stack answering 200 (bare) and the same
plus one SQLite insert and commit per event (bare+SQLite).

rcinbox runs as a user runs it (``rcinbox run``, ``RCINBOX_TRANSPORT=webhook``, defaults otherwise)
against the emulator, which it subscribes with; autocannon (:mod:`bench.loadgen`) then posts
instant-SMS notifications exactly as RingCentral does (its headers, the subscription's
``Verification-Token``, the envelope of PLATFORM §4.2, a unique message id each) straight to
rcinbox's endpoint. Each variant gets a fresh process and database and a 1 s warm-up; the three
run interleaved (rcinbox, bare, bare+SQLite), ``runs`` times; figures are medians. After each
rcinbox run the archive's rows are counted (rcinbox stopped first): every 200 must be a row.

The emulator is not on this path; its own ceiling (``POST /_emulator/inbound``, injected texts a
second with nobody subscribed) is measured alone and reported in the notes.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import loadgen, procs
from bench.contract import Figure, Scenario
from bench.scenarios._notifications import WEBHOOK_HEADERS, template

CONNECTIONS = 32
HOOK_PATH = "/hooks/rc"
BASELINE = Path(__file__).parents[1] / "baselines" / "ingest_baseline.py"


@dataclass(frozen=True)
class Run:
    load: loadgen.Load
    warmup_ok: int
    warmup_generated: int
    server_cpu_percent: float  # the measured server, % of one core over the measured run
    rows: int | None = None  # rcinbox: texts archived from deliveries after the run (warm-up included)


def run(quick: bool) -> Scenario:
    runs, seconds = (1, 3.0) if quick else (3, 10.0)
    results: dict[str, list[Run]] = {"rcinbox": [], "bare": [], "bare+sqlite": []}
    with procs.emulator() as alone:  # its own: rcinbox's catch-up must not find these texts
        ceiling = emulator_ceiling(alone, 1.0 if quick else 5.0)
    with procs.emulator() as alone:
        delivered = delivery_ceiling(alone, 0.5 if quick else 3.0)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp, procs.emulator() as emu:
        body_at = dt.datetime.now(dt.UTC)
        for i in range(runs):
            where = Path(tmp) / str(i)
            where.mkdir()
            results["rcinbox"].append(rcinbox_run(emu, where / "rcinbox", seconds, body_at))
            results["bare"].append(baseline_run(emu, where, seconds, body_at, sqlite=False))
            results["bare+sqlite"].append(baseline_run(emu, where, seconds, body_at, sqlite=True))
    return summarise(results, ceiling, delivered, seconds)


def summarise(
    results: dict[str, list[Run]], ceiling: loadgen.Load, delivered: tuple[int, float], seconds: float
) -> Scenario:
    ours, bare, stored = results["rcinbox"], results["bare"], results["bare+sqlite"]

    def of(runs: list[Run], pick: Callable[[Run], float]) -> list[float]:
        return [pick(r) for r in runs]

    figures = (
        Figure.of_runs(
            "throughput vs bare+SQLite",
            "msg/s",
            of(ours, lambda r: r.load.rps),
            higher_is_better=True,
            baseline_runs=of(stored, lambda r: r.load.rps),
            baseline_name="bare+SQLite",
            target=0.5,
            target_is_ratio=True,
        ),
        Figure.of_runs(
            "throughput vs bare",
            "msg/s",
            of(ours, lambda r: r.load.rps),
            higher_is_better=True,
            baseline_runs=of(bare, lambda r: r.load.rps),
            baseline_name="bare",
        ),
        Figure.of_runs(
            "p50 latency",
            "ms",
            of(ours, lambda r: r.load.p50),
            higher_is_better=False,
            baseline_runs=of(stored, lambda r: r.load.p50),
            baseline_name="bare+SQLite",
        ),
        Figure.of_runs(
            "p99 latency",
            "ms",
            of(ours, lambda r: r.load.p99),
            higher_is_better=False,
            baseline_runs=of(stored, lambda r: r.load.p99),
            baseline_name="bare+SQLite",
            target=100,
        ),
        Figure.of_runs(
            "non-200 answers (503)",
            "posts",
            of(ours, lambda r: r.load.non_200 + r.load.errors),
            higher_is_better=False,
            baseline_runs=of(stored, lambda r: r.load.non_200 + r.load.errors),
            baseline_name="bare+SQLite",
            target=0,
        ),
    )
    notes = [
        f"{CONNECTIONS} keep-alive connections for {seconds:g} s per run after a 1 s warm-up, "
        f"{len(ours)} interleaved run(s) of each (rcinbox, bare, bare+SQLite); medians",
        "archived rows after each rcinbox run vs its 200 answers and posts sent (warm-up included; "
        "200s <= rows <= posts: every 200 was stored, the rest were in flight when the run ended): "
        + ", ".join(
            f"{r.load.ok + r.warmup_ok} <= {r.rows} <= {r.load.generated + r.warmup_generated}"
            + ("" if r.rows is not None and r.load.ok + r.warmup_ok <= r.rows else " (a 200 NOT stored!)")
            for r in ours
        ),
        "rcinbox answers other than 200 per run: " + ", ".join(_statuses(r) for r in ours),
        "server CPU (% of one core): "
        + "; ".join(
            f"{name} {statistics.median(r.server_cpu_percent for r in rs):.0f}"
            for name, rs in (("rcinbox", ours), ("bare", bare), ("bare+SQLite", stored))
        ),
        "load generator (autocannon, one Node process) CPU, % of one core: "
        + "; ".join(
            f"{name} {statistics.median(r.load.cpu_percent for r in rs):.0f}"
            for name, rs in (("rcinbox", ours), ("bare", bare), ("bare+SQLite", stored))
        ),
        f"emulator ceiling: POST /_emulator/inbound sustains {ceiling.rps:,.0f} injected texts/s "
        f"(p99 {ceiling.p99:.0f} ms, {CONNECTIONS} connections, nobody subscribed); the emulator "
        "is not on this scenario's path",
        f"emulator WebHook delivery ceiling: {delivered[0]:,} texts injected into it (as fast as it "
        f"takes them) were delivered to one WebHook subscription on the bare endpoint in "
        f"{delivered[1]:.1f} s: {delivered[0] / delivered[1]:,.0f} notifications/s (one delivery at "
        "a time per subscription, in order, as the emulator delivers)",
    ]
    return Scenario("webhook_ingest", "Webhook ingest, 32 concurrent deliveries", figures, tuple(notes))


def _statuses(r: Run) -> str:
    other = {code: n for code, n in r.load.statuses.items() if code != "200"}
    shown = ", ".join(f"{n} x {code}" for code, n in sorted(other.items())) or "none"
    return shown + (f" + {r.load.errors} errors/timeouts" if r.load.errors else "")


def rcinbox_run(emu: procs.Emulator, data_dir: Path, seconds: float, at: dt.datetime) -> Run:
    port = procs.free_port()
    hook = f"http://127.0.0.1:{port}{HOOK_PATH}"
    env = emu.env() | {"RCINBOX_TRANSPORT": "webhook", "RCINBOX_WEBHOOK_URL": hook}
    with procs.rcinbox(env, data_dir, port=port, log=data_dir.parent / "rcinbox.log") as app:
        token = verification_token(data_dir / "rcinbox.db")
        sub_id = subscription_id(emu, hook)
        body = template(emu.state(), sub_id, at)
        headers = WEBHOOK_HEADERS | {"Verification-Token": token}
        warm = loadgen.run(hook, connections=CONNECTIONS, seconds=1, headers=headers, body=body, first=1)
        before = procs.cpu_seconds(app.pid)
        load = loadgen.run(
            hook, connections=CONNECTIONS, seconds=seconds, headers=headers, body=body, first=10_000_000
        )
        cpu = procs.cpu_seconds(app.pid) - before
    return Run(
        load, warm.ok, warm.generated, 100 * cpu / load.seconds, rows=archived(data_dir / "rcinbox.db")
    )


def baseline_run(emu: procs.Emulator, where: Path, seconds: float, at: dt.datetime, *, sqlite: bool) -> Run:
    port = procs.free_port()
    url = f"http://127.0.0.1:{port}{HOOK_PATH}"
    body = template(emu.state(), "bench-baseline", at)
    headers = WEBHOOK_HEADERS | {"Verification-Token": "bench-baseline"}
    flags = ["--sqlite", str(where / "baseline.db")] if sqlite else []
    with _baseline(port, flags) as pid:
        warm = loadgen.run(url, connections=CONNECTIONS, seconds=1, headers=headers, body=body, first=1)
        before = procs.cpu_seconds(pid)
        load = loadgen.run(
            url, connections=CONNECTIONS, seconds=seconds, headers=headers, body=body, first=10_000_000
        )
        cpu = procs.cpu_seconds(pid) - before
    if sqlite:
        (where / "baseline.db").unlink()
    return Run(load, warm.ok, warm.generated, 100 * cpu / load.seconds)


@contextmanager
def _baseline(port: int, flags: list[str]) -> Iterator[int]:
    process = subprocess.Popen(
        [procs.PYTHON, str(BASELINE), "--port", str(port), "--path", HOOK_PATH, *flags],
        stdout=subprocess.DEVNULL,
    )
    try:
        procs.wait_until(lambda: _healthy(process, port), 30, "baseline ready")
        yield process.pid
    finally:
        procs.stop(process)


def _healthy(process: subprocess.Popen[bytes], port: int) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"the baseline exited with {process.returncode}")
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def emulator_ceiling(emu: procs.Emulator, seconds: float) -> loadgen.Load:
    """Texts a second ``POST /_emulator/inbound`` takes (each stored and published to nobody)."""
    state = emu.state()
    text = {"from": "+14155550111", "to": state["extensions"][0]["phoneNumbers"][0], "text": "ceiling"}
    return loadgen.run(
        f"{emu.url}/_emulator/inbound",
        connections=CONNECTIONS,
        seconds=seconds,
        headers={"Content-Type": "application/json"},
        fixed_body=json.dumps(text),
    )


def delivery_ceiling(emu: procs.Emulator, seconds: float) -> tuple[int, float]:
    """(texts, seconds): how long the emulator takes to deliver, to one WebHook subscription on
    the bare endpoint, the texts injected into it for ``seconds`` (from the first injection to the
    last delivery answered)."""
    port = procs.free_port()
    address = f"http://127.0.0.1:{port}{HOOK_PATH}"
    env = emu.env()
    with _baseline(port, []):
        answer = httpx.post(
            f"{emu.url}/restapi/oauth/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": env["RC_USER_JWT"],
            },
            auth=(env["RC_APP_CLIENT_ID"], env["RC_APP_CLIENT_SECRET"]),
            timeout=10,
        )
        answer.raise_for_status()
        created = httpx.post(
            f"{emu.url}/restapi/v1.0/subscription",
            json={
                "eventFilters": ["/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"],
                "deliveryMode": {"transportType": "WebHook", "address": address, "verificationToken": "t"},
            },
            headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
            timeout=10,
        )
        created.raise_for_status()
        started = time.monotonic()
        injected = emulator_ceiling(emu, seconds).ok
        procs.wait_until(lambda: _received(port) >= injected, 120, "the emulator delivered", every=0.02)
        return injected, time.monotonic() - started


def _received(port: int) -> int:
    count: int = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["received"]
    return count


def verification_token(db: Path) -> str:
    """The token rcinbox created and gave its subscription (kept in its store's kv table)."""
    with _read_only(db) as conn:
        row = conn.execute("SELECT value FROM kv WHERE key = 'webhook.verification_token'").fetchone()
    if row is None:
        raise RuntimeError("rcinbox stored no webhook verification token")
    return str(row[0])


def subscription_id(emu: procs.Emulator, address: str) -> str:
    for sub in emu.state()["subscriptions"]:
        if sub.get("address") == address and sub["status"] == "Active":
            return str(sub["id"])
    raise RuntimeError(f"no active WebHook subscription for {address} in the emulator")


def archived(db: Path) -> int:
    """The texts rcinbox archived from WebHook deliveries."""
    with _read_only(db) as conn:
        found = conn.execute("SELECT count(*) FROM messages WHERE source = 'webhook'").fetchone()
    return int(found[0])


@contextmanager
def _read_only(db: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        yield conn
    finally:
        conn.close()
