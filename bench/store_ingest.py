"""The store's ingest on SQLite and PostgreSQL side by side, interleaved run by run.

    PYTHONPATH=src:. python -m bench.store_ingest [--runs 5] [--batches 10] [--fast-pg]

Two ways texts are archived, each on a fresh database per run:

- ``accept_many``: the catch-up's path (``Store.accept_many``, batches of
  :data:`rcinbox.service.catchup.BATCH` = 500 texts, one transaction each);
- ``accept``: the transports' path (``Store.accept``, 500 concurrent callers per wave: the
  group commit of :mod:`rcinbox.store.intake` writes them in a few transactions);
- ``accept_uneven``: the same 500 callers in groups of 1 to 128 (seeded), one group after the
  other: many transactions of many sizes, as an uneven stream of WebHooks gives.

PostgreSQL: a throwaway cluster (``initdb`` into a temporary directory, a Unix socket only, run as
the ``postgres`` user when we are root) with the server's defaults (``fsync``,
``synchronous_commit`` and ``full_page_writes`` on, as an installation runs it); ``--fast-pg``
adds a second one configured as the tests' cluster (all three off) for comparison. SQLite: a
file in a temporary directory with rcinbox's own PRAGMAs (WAL, ``synchronous=NORMAL``).
Prints texts/s per run and the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from rcinbox.events import InboundMessage, Party
from rcinbox.service.catchup import BATCH
from rcinbox.store import Store

PORT = 5432
USER = "rcinbox"
FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
_ids = itertools.count(1)


def texts(n: int) -> list[InboundMessage]:
    """``n`` new texts from distinct senders, each about the size of a real one."""
    now = datetime.now(UTC)
    out = []
    for _ in range(n):
        i = next(_ids)
        mid = str(10_000_000 + i)
        sender = f"+1415{i % 10_000_000:07d}"
        raw = {
            "id": mid,
            "from": {"phoneNumber": sender},
            "to": [{"phoneNumber": "+16505550100"}],
            "type": "SMS",
        }
        out.append(
            InboundMessage(
                message_id=mid,
                extension_id="101",
                account_id="400",
                sender=Party(phone_number=sender, name=None),
                recipients=(Party(phone_number="+16505550100", name=None, target=True),),
                text=f"Hi, is the shop open on Saturday? I would like to pick up order {i}.",
                attachments=(),
                conversation_id=f"c{i}",
                created_at=now,
                raw=raw,
                source="sync",
                handed_over_at=now,
            )
        )
    return out


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def cluster(options: str) -> Iterator[tuple[Path, Path]]:
    """A throwaway PostgreSQL cluster: (its bin directory, its socket directory)."""
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))[
        -1
    ].parent
    root = Path(tempfile.mkdtemp(prefix="rcinbox-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    run = _as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8"])
    subprocess.run(run, check=True, capture_output=True)
    opts = f"-c listen_addresses='' -k {root} -p {PORT} {options}".strip()
    start = [str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"]
    subprocess.run(_as_postgres(start), check=True, capture_output=True)
    try:
        yield bindir, root
    finally:
        stop = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
        subprocess.run(_as_postgres(stop), check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def pg_database(bindir: Path, root: Path, name: str) -> str:
    psql = [str(bindir / "psql"), "-X", "-q", "-h", str(root), "-p", str(PORT), "-U", USER, "-d", "postgres"]
    subprocess.run([*psql, "-c", f'DROP DATABASE IF EXISTS "{name}"'], check=True, capture_output=True)
    subprocess.run([*psql, "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    return f"postgresql+asyncpg://{USER}@/{name}?host={root}&port={PORT}"


async def measure(url: str, way: str, batches: int) -> float:
    """Texts archived per second: ``batches`` batches of 500 (after one unmeasured warm-up)."""
    async with await Store.open(url) as store:
        work = [texts(BATCH) for _ in range(batches + 1)]
        sizes = random.Random(1)  # the same uneven groups on every database
        elapsed = 0.0
        for i, batch in enumerate(work):
            started = time.perf_counter()
            if way == "accept_many":
                new = await store.accept_many(batch)
            elif way == "accept":
                new = list(await asyncio.gather(*(store.accept(m) for m in batch)))
            else:  # accept_uneven: groups of 1..128 callers one after the other (uneven load)
                new = []
                while len(new) < len(batch):
                    group = batch[len(new) : len(new) + sizes.randint(1, 128)]
                    new += await asyncio.gather(*(store.accept(m) for m in group))
            took = time.perf_counter() - started
            assert all(new), "every text is new"
            if i:
                elapsed += took
        return batches * BATCH / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--fast-pg", action="store_true", help="also a cluster with fsync etc. off")
    parser.add_argument("--ways", nargs="+", default=["accept_many", "accept", "accept_uneven"])
    args = parser.parse_args(argv)
    with cluster("") as default, cluster(FAST) if args.fast_pg else nullcontext() as fast:
        targets: dict[str, tuple[Path, Path] | None] = {"sqlite": None, "postgresql": default}
        if fast is not None:
            targets["postgresql (fsync off)"] = fast
        rates: dict[tuple[str, str], list[float]] = {}
        for run in range(args.runs):
            for way in args.ways:
                for name, where in targets.items():
                    if where is None:
                        tmp = tempfile.mkdtemp(prefix="rcinbox-bench-sqlite-")
                        url = f"sqlite+aiosqlite:///{tmp}/rcinbox.db"
                    else:
                        url = pg_database(*where, f"bench{run}")
                    rate = asyncio.run(measure(url, way, args.batches))
                    if where is None:
                        shutil.rmtree(tmp, ignore_errors=True)
                    rates.setdefault((way, name), []).append(rate)
                    print(f"run {run} {way:11} {name:24} {rate:8.0f}/s", file=sys.stderr, flush=True)
        for way in args.ways:
            sqlite = statistics.median(rates[(way, "sqlite")])
            for name in targets:
                med = statistics.median(rates[(way, name)])
                print(f"{way:11} {name:24} median {med:8.0f}/s  {med / sqlite:5.2f}x SQLite")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
