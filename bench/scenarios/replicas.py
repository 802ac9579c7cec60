"""What replicas cost and give: the same WebHook work done by one process on SQLite (the baseline),
one replica on PostgreSQL, and three replicas on PostgreSQL behind HAProxy, side by side in the
same run (the set-ups are :mod:`bench.scenarios._replica_stack`'s).

On each set-up, freshly started (a fresh emulator, database and data directories):

1. **Burst**: ``N`` texts from ``M`` senders posted into the emulator as fast as it takes them
   (``POST /_emulator/inbound``), which delivers each to the WebHook address (HAProxy's with three
   replicas); the vacation reply answers everyone. Figures: seconds from the first post until all
   ``N`` are archived (the archive polled every 50 ms), and until every sender has had its reply
   (the last reply's ``creationTime`` at the emulator). The emulator's rate limits are lifted
   (1,000,000 a window, headers still sent): under RingCentral's defaults the replies would take
   (ceil(M / 40) - 1) minutes whatever the set-up (``default_limits`` measures that), and the
   replicas would split that one budget, so lifted limits isolate what the set-up itself costs.
2. **Ingest**: the vacation reply turned off (each replica waits until it reloaded its rules),
   then ``webhook_ingest``'s load: autocannon, 32 keep-alive connections, notifications exactly as
   RingCentral posts them, each with a unique message id, 1 s warm-up then the measured seconds,
   aimed at the WebHook address. Figures: accepted (200) texts a second, p50 and p99 answer time,
   answers other than 200 (503: the pipeline's queue full) plus errors.
3. **Takeover** (three replicas only): SIGKILL the leader; seconds until another replica logs
   that it leads, and until its WebHook subscription is in place (its "reusing", "renewed" or
   "created webhook subscription" line), the logs read every 10 ms.

Runs are interleaved (SQLite, PostgreSQL, three replicas; then again), ``runs`` times; figures are
medians, each set-up's beside the SQLite process's of the same run.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import loadgen, pg, procs
from bench.contract import Figure, Scenario
from bench.scenarios import _replica_stack as rs
from bench.scenarios import _replying as r
from bench.scenarios._notifications import WEBHOOK_HEADERS, template

CONNECTIONS = 32


@dataclass(frozen=True)
class Run:
    archived: float  # s from the first post until all N archived
    answered: float  # s until every sender had its reply
    replies: int  # replies the emulator received in the burst (one per sender expected)
    load: loadgen.Load
    cpu_percent: float  # the replicas' CPU over the measured ingest, % of one core
    replies_during_ingest: int
    takeover: tuple[float, float] | None = None  # (leads, subscribed) after the kill, s


def run(quick: bool) -> Scenario:
    runs, seconds, texts, senders = (1, 2.0, 60, 20) if quick else (3, 10.0, 600, 100)
    results: dict[str, list[Run]] = {kind: [] for kind in rs.KINDS}
    cluster = pg.start_cluster(durable=True)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp:
            for i in range(runs):
                for kind in rs.KINDS:
                    where = Path(tmp) / f"{kind}-{i}"
                    where.mkdir()
                    with rs.stack(kind, where, cluster) as stack:
                        results[kind].append(one_run(stack, seconds, texts, senders, offset=i * senders))
    finally:
        pg.stop_cluster(cluster)
    return summarise(results, seconds, texts, senders)


def one_run(stack: rs.Stack, seconds: float, texts: int, senders: int, offset: int) -> Run:
    archived, answered, replies = burst(stack, texts, senders, offset)
    stack.rules_off()
    before = r.last_outbound_id(stack.emulator.url)
    load, cpu = ingest(stack, seconds)
    after = r.last_outbound_id(stack.emulator.url)
    takeover = takeover_times(stack) if len(stack.apps) > 1 else None
    return Run(archived, answered, replies, load, cpu, after - before, takeover)


def burst(stack: rs.Stack, texts: int, senders: int, offset: int) -> tuple[float, float, int]:
    numbers = r.senders(senders, offset=offset)
    bodies = [{"from": numbers[i % senders], "to": r.OWNER, "text": r.text(i)} for i in range(texts)]
    replies = r.Replies(stack.emulator.url, r.last_outbound_id(stack.emulator.url))
    try:
        sent = r.inject(stack.emulator.url, bodies)
        sql = "SELECT count(*) FROM messages WHERE source = 'webhook'"
        procs.wait_until(lambda: stack.count(sql) >= texts, 300, f"{texts} texts archived")
        archived = time.time() - min(sent)
        answered = replies.wait(numbers, timeout=300)
        replies.poll()
        return archived, max(answered.values()) - min(sent), replies.count
    finally:
        replies.close()


def ingest(stack: rs.Stack, seconds: float) -> tuple[loadgen.Load, float]:
    body = template(stack.emulator.state(), stack.subscription_id(), dt.datetime.now(dt.UTC))
    headers = WEBHOOK_HEADERS | {"Verification-Token": stack.verification_token()}
    loadgen.run(stack.hook, connections=CONNECTIONS, seconds=1, headers=headers, body=body, first=1)
    before = stack.cpu_seconds()
    load = loadgen.run(
        stack.hook, connections=CONNECTIONS, seconds=seconds, headers=headers, body=body, first=10_000_000
    )
    return load, 100 * (stack.cpu_seconds() - before) / load.seconds


def takeover_times(stack: rs.Stack) -> tuple[float, float]:
    """SIGKILL the leader: (s until another logs that it leads, s until its subscription is in place)."""
    first = stack.leader()
    others = [i for i in range(len(stack.apps)) if i != first]
    marks = stack.marks()
    killed = rs.kill(stack.apps[first])
    leader = stack.wait_line(rs.LEADS, others, marks, 60)
    leads = time.monotonic() - killed
    stack.wait_line(rs.SUBSCRIBED, [leader], marks, 60)
    return leads, time.monotonic() - killed


def measures(texts: int, senders: int) -> list[tuple[str, str, Callable[[Run], float], bool]]:
    """(name, unit, the value of a run, higher is better) of each figure a set-up gets."""
    return [
        ("ingest", "msg/s", lambda x: x.load.rps, True),
        ("ingest p50", "ms", lambda x: x.load.p50, False),
        ("ingest p99", "ms", lambda x: x.load.p99, False),
        ("ingest non-200 answers", "posts", lambda x: x.load.non_200 + x.load.errors, False),
        (f"burst of {texts}: all archived", "s", lambda x: x.archived, False),
        (f"burst of {texts}: {senders} senders answered", "s", lambda x: x.answered, False),
    ]


def summarise(results: dict[str, list[Run]], seconds: float, texts: int, senders: int) -> Scenario:
    base = results["sqlite"]
    figures: list[Figure] = []
    for kind in ("pg", "pg3"):
        ours, label = results[kind], rs.LABELS[kind]
        for name, unit, pick, higher in measures(texts, senders):
            figures.append(
                Figure.of_runs(
                    f"{label}: {name}",
                    unit,
                    [pick(x) for x in ours],
                    higher_is_better=higher,
                    baseline_runs=[pick(x) for x in base],
                    baseline_name=rs.LABELS["sqlite"],
                )
            )
    takeovers = [x.takeover for x in results["pg3"] if x.takeover is not None]
    figures.append(
        Figure.of_runs(
            "takeover: another replica leads", "s", [t[0] for t in takeovers], higher_is_better=False
        )
    )
    figures.append(
        Figure.of_runs(
            "takeover: its subscription in place", "s", [t[1] for t in takeovers], higher_is_better=False
        )
    )
    return Scenario(
        "replicas",
        "Replicas: one process on SQLite, one and three on PostgreSQL",
        tuple(figures),
        notes(results, seconds, texts, senders),
    )


def notes(results: dict[str, list[Run]], seconds: float, texts: int, senders: int) -> tuple[str, ...]:
    def each(pick: Callable[[Run], object]) -> str:
        return "; ".join(
            f"{rs.LABELS[kind]} {', '.join(str(pick(x)) for x in results[kind])}" for kind in rs.KINDS
        )

    runs = len(results["sqlite"])
    return (
        f"{runs} interleaved run(s) of each set-up, each on a fresh emulator, database and processes; "
        f"burst: {texts} texts from {senders} senders, the emulator's rate limits lifted; "
        f"ingest: {CONNECTIONS} connections for {seconds:g} s after a 1 s warm-up; medians",
        "replies in each burst (one per sender expected): " + each(lambda x: x.replies),
        "replies sent during ingest (the vacation reply off, none expected): "
        + each(lambda x: x.replies_during_ingest),
        "replicas' CPU during ingest, % of one core (the machine's cores: "
        f"{_cores()}): "
        + "; ".join(
            f"{rs.LABELS[k]} {statistics.median(x.cpu_percent for x in results[k]):.0f}" for k in rs.KINDS
        ),
        "ingest load generator (autocannon, one Node process) CPU, % of one core: "
        + "; ".join(
            f"{rs.LABELS[k]} {statistics.median(x.load.cpu_percent for x in results[k]):.0f}"
            for k in rs.KINDS
        ),
        "PostgreSQL: a throwaway cluster on a Unix socket with the server's defaults (fsync and "
        "synchronous_commit on; bench/pg.py); its CPU is not in the replicas' figure; three "
        "replicas add HAProxy's hop; the emulator delivers one notification at a time per subscription",
    )


def _cores() -> int:
    return os.cpu_count() or 1
