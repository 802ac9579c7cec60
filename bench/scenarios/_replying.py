"""What the reply scenarios share (reply_path, default_limits, attachments, catchup): the rules a
user writes to answer everyone, distinct senders, injecting texts into the emulator, reading the
replies it received, and the subjects that answer them (rcinbox, and the guide-style SDK samples).

Times: the bench and the emulator run on one machine and both read the system clock
(``time.time``), so an inbound's moment is the bench's clock just before it posts the text, and a
reply's moment is the ``creationTime`` the emulator gives the sent message (milliseconds) when its
``/sms`` handler runs. Neither depends on how often the bench polls ``/_emulator/outbound``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench import procs

ROOT = Path(__file__).resolve().parents[2]
BASELINES = ROOT / "bench" / "baselines"
OWNER = "+16505550100"  # Alex Morgan's primary number in the emulator's built-in account
REPLY = "Auto-reply: Hi {first_name}, I'm away until {return_date}. For urgent matters call {backup_number}."
SAMPLE_REPLY = "Auto-reply: I'm away until Monday, January 4. For urgent matters call +16505550123."
_AREAS = ("212", "312", "415", "646", "718", "917", "303", "617", "206", "512")


def rules(directory: Path) -> Path:
    """A user's rules file: the vacation reply to everyone, a window around now (UTC), defaults
    for everything else (once per sender per 7 days, loop fuse, max age)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    path = directory / "rcinbox.toml"
    path.write_text(
        "[vacation]\nenabled = true\n"
        f"start = {(now - dt.timedelta(days=1)).isoformat()}\n"
        f"end = {(now + dt.timedelta(days=30)).isoformat()}\n"
        'timezone = "UTC"\n'
        f'message = "{REPLY}"\n'
        'audience = "everyone"\nrepeat_after = "7d"\n\n'
        '[vacation.values]\nbackup_number = "+16505550123"\n'
    )
    return path


def senders(count: int, offset: int = 0) -> list[str]:
    """``count`` distinct, valid US mobile-looking numbers (none of the emulator's account)."""
    numbers = []
    for i in range(offset, offset + count):
        area, rest = _AREAS[i % len(_AREAS)], i // len(_AREAS)
        numbers.append(f"+1{area}{200 + rest // 10000 % 800}{rest % 10000:04d}")
    return numbers


def text(i: int) -> str:
    return f"Hi, are you around tomorrow afternoon? It's about order {1000 + i}."


def epoch(iso: str) -> float:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def workdir(name: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=f"bench-{name}-")


# --- injecting and reading what the emulator received -------------------------------------------


def inject(
    url: str, bodies: Sequence[Mapping[str, Any]], *, concurrency: int = 4, every: float | None = None
) -> list[float]:
    """POST each body to ``/_emulator/inbound`` over ``concurrency`` keep-alive connections; the
    wall time just before each post. With ``every``, post i goes at start + i * every (a steady
    rate); else as fast as the emulator takes them. (Plain ``http.client`` in threads: about ten
    times what an asyncio client of the same machine manages, so the injector stays out of the way.)"""
    sent = [0.0] * len(bodies)
    parts = urlsplit(url)
    start = time.monotonic()
    failures: list[str] = []

    def worker(first: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        try:
            for i in range(first, len(bodies), concurrency):
                if every is not None:
                    time.sleep(max(start + i * every - time.monotonic(), 0))
                sent[i] = time.time()
                connection.request("POST", "/_emulator/inbound", json.dumps(bodies[i]), _JSON)
                answer = connection.getresponse()
                body = answer.read()
                if answer.status != 200:
                    failures.append(f"{answer.status} {body[:200]!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} injections refused, the first: {failures[0]}")
    return sent


_JSON = {"Content-Type": "application/json"}


def texts(numbers: Sequence[str], offset: int = 0) -> list[dict[str, Any]]:
    return [{"from": n, "to": OWNER, "text": text(offset + i)} for i, n in enumerate(numbers)]


def last_outbound_id(url: str) -> int:
    records = httpx.get(f"{url}/_emulator/outbound", params={"since": 0}, timeout=30).json()["records"]
    return max((r["id"] for r in records), default=0)


class Replies:
    """The replies the emulator received since ``since``, by recipient (first reply each)."""

    def __init__(self, url: str, since: int = 0) -> None:
        self.url, self.since = url, since
        self.by_recipient: dict[str, float] = {}
        self.count = 0  # every reply, including a second one to the same recipient
        self._http = httpx.Client(base_url=url, timeout=30)

    def poll(self) -> None:
        records = self._http.get("/_emulator/outbound", params={"since": self.since}).json()["records"]
        for r in records:
            self.since = max(self.since, r["id"])
            self.count += 1
            for to in r["to"]:
                self.by_recipient.setdefault(to, epoch(r["creationTime"]))

    def wait(self, recipients: Sequence[str], timeout: float, every: float = 0.05) -> dict[str, float]:
        """Until each of ``recipients`` has a reply: its reply's time by recipient."""
        wanted = set(recipients)

        def done() -> bool:
            self.poll()
            return wanted <= self.by_recipient.keys()

        try:
            procs.wait_until(done, timeout, f"{len(wanted)} replies", every=every)
        except TimeoutError as exc:
            missing = len(wanted - self.by_recipient.keys())
            raise TimeoutError(f"{exc} ({missing} of {len(wanted)} unanswered)") from None
        return {n: self.by_recipient[n] for n in recipients}

    def close(self) -> None:
        self._http.close()


def subscriptions(emulator: procs.Emulator) -> int:
    """How many Active WebSocket or WebHook subscriptions the emulator has."""
    return sum(1 for s in emulator.state()["subscriptions"] if s["status"] == "Active")


# --- the subjects ---------------------------------------------------------------------------------


@contextlib.contextmanager
def rcinbox(
    emulator: procs.Emulator,
    directory: Path,
    *,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
) -> Iterator[procs.Rcinbox]:
    """``rcinbox run`` as a user runs it against the emulator, with the answer-everyone rules."""
    settings = {**emulator.env(), "RCINBOX_RULES": str(rules(directory)), **(env or {})}
    data = directory / "data"
    data.mkdir(exist_ok=True)
    with procs.rcinbox(settings, data, log=log or directory / "rcinbox.log") as running:
        yield running


def sdk_python() -> str:
    """The Python of the official SDK's own virtualenv (``make sdk-deps``; ``RCINBOX_SDK_PYTHON``)."""
    found = os.environ.get("RCINBOX_SDK_PYTHON") or str(ROOT / ".venv-sdk" / "bin" / "python")
    if not Path(found).exists():
        raise RuntimeError(f"no SDK virtualenv at {found}: run `make sdk-deps` or set RCINBOX_SDK_PYTHON")
    return found


@contextlib.contextmanager
def sample(kind: str, emulator: procs.Emulator, directory: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A guide-style sample (``python``: bench/baselines/sdk_sample.py on the ``ringcentral`` SDK;
    ``js``: bench/baselines/sdk_sample.mjs on ``@ringcentral/sdk``), subscribed and ready."""
    state = emulator.state()
    env = {
        **os.environ,
        "RC_SERVER": emulator.url,
        "RC_CLIENT_ID": state["app"]["clientId"],
        "RC_CLIENT_SECRET": state["app"]["clientSecret"],
        "RC_JWT": state["extensions"][0]["jwt"],
        "SAMPLE_REPLY": SAMPLE_REPLY,
    }
    argv = (
        [sdk_python(), str(BASELINES / "sdk_sample.py")]
        if kind == "python"
        else ["node", str(BASELINES / "sdk_sample.mjs")]
    )
    before = subscriptions(emulator)
    with open(directory / f"sample-{kind}.log", "ab") as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:

            def subscribed() -> bool:
                if process.poll() is not None:
                    raise RuntimeError(f"the {kind} sample exited with {process.returncode}: see {log.name}")
                return subscriptions(emulator) > before

            procs.wait_until(subscribed, 60, f"the {kind} sample's subscription")
            yield process
        finally:
            procs.stop(process)


# --- the archive ---------------------------------------------------------------------------------


def count(data_dir: Path, sql: str) -> int:
    """One number from rcinbox's SQLite archive, read-only (0 before the table exists)."""
    path = data_dir / "rcinbox.db"
    if not path.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
            row = db.execute(sql).fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0]) if row else 0


# --- figures -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, nearest-rank."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def fmt_runs(values: Sequence[float], unit: str = "") -> str:
    return ", ".join(f"{v:.3g}{unit}" for v in values)


LIFTED = {"Light": 1_000_000, "Medium": 1_000_000, "Heavy": 1_000_000, "Auth": 1_000_000}


def lift_limits(emulator: procs.Emulator) -> None:
    """Raise every group's limit to 1,000,000 per window (the emulator's control API).

    Not ``--no-rate-limits``: without limits the emulator sends no ``X-Rate-Limit-*`` headers, and
    a client that paces (rcinbox) then rightly assumes RingCentral's documented defaults (Medium
    40/60 s), so it would measure that pacing instead of the reply path. Raised limits keep the
    headers, as the platform always sends them, and tell the client there is room."""
    faults(emulator, {"rateLimits": LIFTED})


def faults(emulator: procs.Emulator, body: Mapping[str, Any]) -> None:
    """``POST /_emulator/faults``: change the rate limits, inject faults (docs/emulator.md)."""
    httpx.post(f"{emulator.url}/_emulator/faults", json=body, timeout=10).raise_for_status()


@contextlib.contextmanager
def subject(kind: str, emulator: procs.Emulator, directory: Path) -> Iterator[None]:
    """``rcinbox``, or the ``python`` or ``js`` guide-style sample, answering ``emulator``'s texts."""
    with rcinbox(emulator, directory) if kind == "rcinbox" else sample(kind, emulator, directory):
        yield


def ingest_ceiling(count: int) -> float:
    """The emulator alone: inbound texts per second it takes through ``/_emulator/inbound`` with
    nobody subscribed, posted as the scenarios post them."""
    with procs.emulator() as emulator:
        lift_limits(emulator)
        inject(emulator.url, texts(senders(50, offset=900_000)))  # warm up
        sent = inject(emulator.url, texts(senders(count, offset=1_000_000)))
    return count / (max(sent) - min(sent))
