"""Three replicas on one PostgreSQL database, with real parts (replicas_kit.py): a burst of 300
texts from 30 senders while the leader is killed (SIGKILL) a third of the way in and another
replica is restarted (SIGTERM, started again) two thirds in. Every text is archived once, every
sender answered exactly once, another replica took the lead; over WebHooks (HAProxy in front) the
new leader renews the subscription, over the WebSocket (only the leader holds the socket) its
catch-up finds what was texted while nobody held it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_kit import Cluster
from replicas_kit import WITHIN, Replicas, burst, eventually, outbound, query, replica_stack, senders

TEXTS, SENDERS = 300, 30


@pytest.fixture
def database(pg_cluster: Cluster) -> Iterator[str]:
    name = pg_cluster.create(empty=False)
    yield name
    pg_cluster.drop(name)


@pytest.mark.parametrize("transport", ["webhook", "websocket"])
def test_a_burst_survives_a_killed_leader_and_a_restarted_replica(
    transport: str, tmp_path: Path, pg_cluster: Cluster, database: str
) -> None:
    numbers = senders(SENDERS)
    with replica_stack(tmp_path, pg_cluster, database, transport) as (replicas, http):
        subscribed = "webhook subscription" if transport == "webhook" else r"subscribed "
        eventually(lambda: _leader_subscribed(replicas, subscribed), WITHIN, "a leader subscribed")
        first = replicas.leader()
        other = next(i for i in range(3) if i != first)
        faults = {TEXTS // 3: lambda: replicas.kill(first), 2 * TEXTS // 3: lambda: replicas.restart(other)}
        burst(http, numbers, TEXTS, faults)

        def archived() -> bool:
            return query(pg_cluster, database, "SELECT count(*) FROM messages") == [[str(TEXTS)]]

        eventually(archived, WITHIN, "every text archived")

        seen: dict[str, object] = {}

        def settled() -> bool:
            busy = query(
                pg_cluster,
                database,
                "SELECT state, count(*) FROM messages WHERE state <> 'done' GROUP BY state",
            )
            active = query(
                pg_cluster,
                database,
                "SELECT state, claimed_by, count(*) FROM outbox WHERE state IN ('queued', 'sending')"
                " GROUP BY state, claimed_by",
            )
            seen.update(messages=busy, outbox=active, answered=len(outbound(http)))
            return not busy and not active and len(outbound(http)) >= SENDERS

        try:
            # under a loaded machine (CI's 2 cores running the other tests too) the replies after
            # the faults take longer: a dead replica's claims wait for its heartbeat to age (15 s)
            eventually(settled, 2.5 * WITHIN, "every text decided and every reply sent")
        except AssertionError as exc:
            tails = {i: lines[-15:] for i, lines in replicas.lines().items()}
            raise AssertionError(f"{exc}; last seen {seen}; replicas' last lines {tails}") from None
        rows = query(pg_cluster, database, "SELECT count(*), count(DISTINCT message_id) FROM messages")
        sent = outbound(http)
        leader = replicas.leader()
        if transport == "webhook":  # the new leader renews the 20-second subscription
            proc = replicas.procs[leader]
            assert proc is not None
            proc.wait_for(r"renewed webhook subscription", WITHIN)
    assert rows == [[str(TEXTS), str(TEXTS)]]
    assert sent == dict.fromkeys(numbers, 1)
    assert leader != first


def _leader_subscribed(replicas: Replicas, pattern: str) -> bool:
    lines = replicas.lines()
    leading = [i for i, found in lines.items() if any("leads:" in line for line in found)]
    return len(leading) == 1 and any(re.search(pattern, line) for line in lines[leading[0]])
