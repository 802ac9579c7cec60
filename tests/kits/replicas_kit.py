"""The replica fault test's parts, all real and each its own process: a PostgreSQL database
(:mod:`pg_kit`), the emulator, HAProxy (Debian's ``/usr/sbin/haproxy``, ``make haproxy``) in
front of the replicas' webhook endpoints with a health check on ``/healthz``, and three
``rcinbox run`` replicas on that database, each with its own data directory and port.

:class:`Replicas` starts and stops replicas (SIGKILL, SIGTERM, start again), says which one leads
(its "leads" line) and reads the database with ``psql``; :func:`burst` texts the emulator's owner
from many senders (``POST /_emulator/inbound``, some texts MMS with :func:`picture` attached) and
runs a callback at chosen points of the burst; :func:`signed_in` opens a replica's dashboard.
Waits are on log lines, HTTP and database state, each with a time limit."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from dashboard_kit import Process, base_env
from e2e_kit import rules_toml
from pg_kit import Cluster

from bench import haproxy
from rcinbox.emulator.envlines import env_lines
from rcinbox.emulator.runner import free_port

OWNER = "+16505550100"  # the emulator's first extension (Alex): the texts go to him
HOOK_PATH = "/rc/webhook"
WITHIN = 60.0  # seconds any one wait may take
LEADS = r"this replica leads"
PASSWORD = "replica-test-password"  # the dashboards'


def senders(count: int) -> list[str]:
    return [f"+1415556{i:04d}" for i in range(count)]


def rules_for_everyone() -> str:
    """A vacation window around the real now; everyone who texts is answered once a week."""
    now, fmt = datetime.now(UTC), "%Y-%m-%dT%H:%M:%S"
    return rules_toml(
        start=(now - timedelta(days=1)).strftime(fmt),
        end=(now + timedelta(days=30)).strftime(fmt),
        timezone="UTC",
        message="Auto-reply: I'm away this month.",
        audience="everyone",
    )


@dataclass
class Replicas:
    tmp: Path
    database_url: str
    env: dict[str, str]
    ports: list[int]
    procs: list[Process | None] = field(default_factory=list)
    runs: list[list[Process]] = field(default_factory=list)  # every process each replica ran

    def start(self, i: int) -> Process:
        data = self.tmp / f"replica{i}"
        args = [
            "run",
            "--port",
            str(self.ports[i]),
            "--data-dir",
            str(data),
            "--rules",
            str(self.tmp / "rules.toml"),
        ]
        proc = Process([sys.executable, "-m", "rcinbox", *args], self.env, self.tmp)
        self.procs[i] = proc
        self.runs[i].append(proc)
        proc.wait_for(r"HTTP server on", WITHIN)
        return proc

    def leader(self) -> int:
        """The replica that leads now (its last process said so and is alive)."""
        alive = [i for i, p in enumerate(self.procs) if p is not None and p.popen.poll() is None]
        leaders = [i for i in alive if any("leads:" in line for line in _lines(self.procs[i]))]
        assert len(leaders) == 1, f"leaders: {leaders}"
        return leaders[0]

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        assert proc is not None
        proc.popen.kill()
        proc.popen.wait(10)

    def restart(self, i: int) -> Process:
        proc = self.procs[i]
        assert proc is not None
        proc.stop()  # SIGTERM, and waits
        assert proc.popen.returncode == 0, "\n".join(proc.lines)  # a clean stop
        return self.start(i)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc is not None:
                proc.stop()

    def lines(self) -> dict[int, list[str]]:
        return {i: [line for p in run for line in _lines(p)] for i, run in enumerate(self.runs)}


def _lines(proc: Process | None) -> list[str]:
    return list(proc.lines) if proc is not None else []


def eventually(check: Callable[[], bool], within: float = WITHIN, what: str = "") -> None:
    """Wait (looking every 0.2 s) until ``check()`` holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"not within {within:.0f} s: {what}"
        time.sleep(0.2)


def query(cluster: Cluster, database: str, sql: str) -> list[list[str]]:
    return cluster.query(database, sql)


def outbound(http: httpx.Client) -> Counter[str]:
    """How many texts the emulator sent to each number."""
    records = http.get("/_emulator/outbound").json()["records"]
    return Counter(to for record in records for to in record["to"])


def burst(
    http: httpx.Client,
    numbers: list[str],
    total: int,
    at: Mapping[int, Callable[[], object]],
    mms: Mapping[int, list[tuple[str, bytes]]] | None = None,
) -> list[str]:
    """``total`` texts, round-robin over ``numbers``; ``at[n]()`` runs before the n-th one; the
    n-th is an MMS with ``mms[n]`` (content type, bytes) attached. Returns each text's words
    (unique)."""
    words = []
    for n in range(total):
        if n in at:
            at[n]()
        text = f"Are you there? ({n})"
        send(http, numbers[n % len(numbers)], text, (mms or {}).get(n, []))
        words.append(text)
    return words


def send(http: httpx.Client, sender: str, text: str, files: list[tuple[str, bytes]] | None = None) -> None:
    """``sender`` texts the owner, with ``files`` (content type, bytes) attached: an MMS."""
    body: dict[str, object] = {"from": sender, "to": OWNER, "text": text}
    if files:
        body["attachments"] = [
            {"contentType": kind, "contentBase64": base64.b64encode(data).decode()} for kind, data in files
        ]
    response = http.post("/_emulator/inbound", json=body)
    assert response.status_code == 200, response.text


def picture(n: int, size: int = 3000) -> bytes:
    """An attachment's bytes, different for each ``n``."""
    seed = hashlib.sha256(str(n).encode()).digest()
    return b"\x89PNG\r\n\x1a\n" + (seed * (size // len(seed) + 1))[:size]


@contextlib.contextmanager
def signed_in(port: int, password: str = PASSWORD) -> Iterator[httpx.Client]:
    """An HTTP client of one replica's dashboard, signed in."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        form = http.get("/signin")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None, form.text
        answer = http.post("/signin", data={"csrf": csrf.group(1), "password": password})
        assert answer.status_code == 303, answer.text
        yield http


@contextlib.contextmanager
def replica_stack(
    tmp: Path, cluster: Cluster, database: str, transport: str, count: int = 3, expires_in: int = 20
) -> Iterator[tuple[Replicas, httpx.Client]]:
    """The emulator, HAProxy (webhook only) and ``count`` replicas, until the block ends."""
    env = base_env()
    emu_port = free_port()
    emulator = Process(
        [sys.executable, "-m", "rcinbox", "emulator", "--port", str(emu_port), "--log-level", "WARNING"],
        env,
        tmp,
    )
    balancer: subprocess.Popen[bytes] | None = None
    replicas: Replicas | None = None
    try:
        emulator_url = emulator.wait_for(r"RingCentral emulator on (http://\S+)", WITHIN).group(1)
        (tmp / "rules.toml").write_text(rules_for_everyone())
        run_env = dict(env)
        for line in env_lines("127.0.0.1", emu_port, None, None):
            name, _, value = line.partition("=")
            run_env[name] = value.strip("'\"")
        ports = [free_port() for _ in range(count)]
        run_env |= {
            "RCINBOX_DATABASE_URL": cluster.url(database),
            "RCINBOX_TRANSPORT": transport,
            "RCINBOX_ADMIN_PASSWORD": PASSWORD,
        }
        if transport == "webhook":
            front = free_port()
            config = tmp / "haproxy.cfg"
            config.write_text(haproxy.config(front, ports))
            balancer = subprocess.Popen([str(haproxy.HAPROXY), "-db", "-f", str(config)], cwd=tmp)
            run_env["RCINBOX_WEBHOOK_URL"] = f"http://127.0.0.1:{front}{HOOK_PATH}"
            run_env["RCINBOX_WEBHOOK_EXPIRES_IN"] = str(expires_in)
        replicas = Replicas(
            tmp, cluster.url(database), run_env, ports, [None] * count, [[] for _ in range(count)]
        )
        for i in range(count):
            replicas.start(i)
        with httpx.Client(base_url=emulator_url, timeout=10) as http:
            yield replicas, http
    finally:
        if replicas is not None:
            replicas.stop_all()
        if balancer is not None:
            balancer.terminate()
            balancer.wait(10)
        emulator.stop()
