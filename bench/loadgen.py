"""The load generator: autocannon (``bench/js``, pinned by its package-lock; ``make bench-deps``)
in its own Node process, so the generator neither shares the measured server's event loop nor its
Python interpreter. Each request can carry a body of its own (a template whose ``__N__`` becomes a
number unique to that request). What the generator used of the CPU is measured too (its
``rusage``): on a 2-core machine it competes with the server it loads."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JS = Path(__file__).parent / "js"
SCRIPT = JS / "ingest.mjs"


class LoadGeneratorMissing(RuntimeError):
    """Node or autocannon is not installed (``make bench-deps``)."""


@dataclass(frozen=True)
class Load:
    """What one autocannon run measured (latencies in ms)."""

    sent: int  # requests answered
    ok: int  # answered 200
    statuses: Mapping[str, int]
    errors: int  # connection errors and timeouts
    seconds: float
    rps: float  # answered per second
    p50: float
    p99: float
    cpu_seconds: float  # the generator's own CPU (user + system)
    generated: int = 0  # requests started (some still in flight, unanswered, when the run ended)

    @property
    def non_200(self) -> int:
        return self.sent - self.ok

    @property
    def cpu_percent(self) -> float:
        """The generator's CPU, in % of one core, over the run."""
        return 100 * self.cpu_seconds / self.seconds if self.seconds else 0.0


def node() -> str:
    found = shutil.which("node")
    if found is None or not (JS / "node_modules" / "autocannon").is_dir():
        raise LoadGeneratorMissing("the load generator needs node and autocannon: run `make bench-deps`")
    return found


def run(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    fixed_body: str | None = None,
    first: int = 1,
) -> Load:
    """``connections`` keep-alive connections POSTing to ``url`` for ``seconds``."""
    config: dict[str, Any] = {
        "url": url,
        "connections": connections,
        "seconds": seconds,
        "headers": dict(headers or {}),
        "first": first,
    }
    if body is not None:
        config["body"] = body
    if fixed_body is not None:
        config["fixedBody"] = fixed_body
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [node(), str(SCRIPT), json.dumps(config)], capture_output=True, check=False, timeout=seconds + 60
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"autocannon failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    answer = json.loads(done.stdout.decode().strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Load(
        sent=int(answer["sent"]),
        ok=int(answer["ok"]),
        statuses={str(k): int(v) for k, v in answer["statuses"].items()},
        errors=int(answer["errors"]) + int(answer["timeouts"]),
        seconds=float(answer["seconds"]),
        rps=float(answer["rps"]),
        p50=float(answer["p50"]),
        p99=float(answer["p99"]),
        cpu_seconds=cpu,
        generated=int(answer.get("generated", 0)),
    )
