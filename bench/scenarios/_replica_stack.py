"""What the ``replicas`` scenario measures on: a fresh emulator (its rate limits lifted) and rcinbox
over WebHooks in one of three set-ups, each process started as an operator starts it
(``rcinbox run``, one data directory each):

- ``sqlite``: one process on its SQLite archive (the baseline, as ``webhook_ingest`` runs it);
- ``pg``: one process on a PostgreSQL database of its own;
- ``pg3``: three replicas on one PostgreSQL database behind HAProxy (docs/operations.md "Several
  replicas"), the WebHook address HAProxy's.

A :class:`Stack` reads its archive (SQLite read-only, or ``psql``), tells which replica leads (its
log's "leads" line), kills one (SIGKILL) and waits for lines in the others' logs."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import haproxy, procs
from bench.pg import Cluster
from bench.scenarios import _replying as r
from bench.scenarios import webhook_ingest

KINDS = ("sqlite", "pg", "pg3")
LABELS = {"sqlite": "1 process, SQLite", "pg": "1 replica, PostgreSQL", "pg3": "3 replicas, PostgreSQL"}
HOOK_PATH = "/hooks/rc"
LEADS = re.compile(r"this replica leads")
SUBSCRIBED = re.compile(r"(reusing|renewed|created) webhook subscription")
RELOADED = re.compile(r"rules reloaded")


@dataclass
class Stack:
    kind: str
    emulator: procs.Emulator
    apps: list[procs.Rcinbox]
    logs: list[Path]
    hook: str  # where the emulator delivers (HAProxy's front with several replicas)
    rules: Path
    cluster: Cluster | None
    database: str | None

    def count(self, sql: str) -> int:
        """One number from the archive (0 before the table exists)."""
        if self.cluster is None or self.database is None:
            return r.count(self.apps[0].data_dir, sql)
        rows = self.cluster.query(self.database, sql)
        return int(rows[0][0]) if rows else 0

    def verification_token(self) -> str:
        if self.cluster is None or self.database is None:
            return webhook_ingest.verification_token(self.apps[0].data_dir / "rcinbox.db")
        rows = self.cluster.query(
            self.database, "SELECT value FROM kv WHERE key = 'webhook.verification_token'"
        )
        if not rows:
            raise RuntimeError("rcinbox stored no webhook verification token")
        return rows[0][0]

    def subscription_id(self) -> str:
        found: str = procs.wait_until(
            lambda: _active(self.emulator, self.hook), 60, "the WebHook subscription", every=0.1
        )
        return found

    def cpu_seconds(self) -> float:
        """The replicas' CPU so far (those alive)."""
        return sum(procs.cpu_seconds(app.pid) for app in self.apps if app.process.poll() is None)

    def text(self, i: int) -> str:
        return self.logs[i].read_text(errors="replace")

    def leader(self) -> int:
        """The replica that leads (the only one whose log says so; waits for one)."""

        def one() -> int | None:
            leading = [i for i in range(len(self.apps)) if LEADS.search(self.text(i))]
            return leading[0] + 1 if len(leading) == 1 else None

        found: int = procs.wait_until(one, 60, "a leader", every=0.05)
        return found - 1

    def wait_line(
        self, pattern: re.Pattern[str], among: Sequence[int], marks: Sequence[int], timeout: float
    ) -> int:
        """The first of replicas ``among`` whose log, past its ``marks`` (byte offsets), has a line
        matching ``pattern`` (waits for it, looking every 10 ms)."""

        def which() -> int | None:
            for i in among:
                if pattern.search(self.logs[i].read_bytes()[marks[i] :].decode(errors="replace")):
                    return i + 1
            return None

        found: int = procs.wait_until(which, timeout, f"a line {pattern.pattern!r}", every=0.01)
        return found - 1

    def marks(self) -> list[int]:
        return [log.stat().st_size for log in self.logs]

    def rules_off(self, timeout: float = 60) -> None:
        """Turn the vacation reply off and wait until every replica has reloaded its rules."""
        marks = self.marks()
        self.rules.write_text(self.rules.read_text().replace("enabled = true", "enabled = false"))
        for i in range(len(self.apps)):
            self.wait_line(RELOADED, [i], marks, timeout)


def _active(emulator: procs.Emulator, address: str) -> str | None:
    for sub in emulator.state()["subscriptions"]:
        if sub.get("address") == address and sub["status"] == "Active":
            return str(sub["id"])
    return None


@contextlib.contextmanager
def stack(kind: str, directory: Path, cluster: Cluster) -> Iterator[Stack]:
    """The emulator and rcinbox set up as ``kind`` says, answering everyone (the vacation reply on)."""
    count = 3 if kind == "pg3" else 1
    ports = [procs.free_port() for _ in range(count)]
    front = procs.free_port() if count > 1 else ports[0]
    hook = f"http://127.0.0.1:{front}{HOOK_PATH}"
    rules = r.rules(directory)
    database = cluster.create(empty=False) if kind != "sqlite" else None
    logs = [directory / f"replica{i}.log" for i in range(count)]
    try:
        with procs.emulator() as emulator, contextlib.ExitStack() as running:
            r.lift_limits(emulator)
            env = emulator.env() | {
                "RCINBOX_TRANSPORT": "webhook",
                "RCINBOX_WEBHOOK_URL": hook,
                "RCINBOX_RULES": str(rules),
            }
            if database is not None:
                env["RCINBOX_DATABASE_URL"] = cluster.url(database)
            if count > 1:
                running.enter_context(haproxy.running(directory, front, ports))
            apps = [
                running.enter_context(procs.rcinbox(env, directory / f"data{i}", port=ports[i], log=logs[i]))
                for i in range(count)
            ]
            yield Stack(kind, emulator, apps, logs, hook, rules, cluster if database else None, database)
    finally:
        if database is not None:
            cluster.drop(database)


def kill(app: procs.Rcinbox) -> float:
    """SIGKILL ``app``; the monotonic moment just before."""
    at = time.monotonic()
    app.process.kill()
    app.process.wait(10)
    return at
