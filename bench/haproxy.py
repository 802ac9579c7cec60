"""HAProxy (Debian's ``/usr/sbin/haproxy``; ``make haproxy``) in front of rcinbox replicas' webhook
endpoints, as docs/operations.md "Several replicas" sets it up; shared by the ``replicas``
benchmark and the replica fault test (``tests/kits/replicas_kit.py``)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

HAPROXY = Path("/usr/sbin/haproxy")


def config(port: int, replicas: Sequence[int]) -> str:
    """A frontend on ``port``; the replicas behind it, checked every 200 ms on ``/healthz`` (two
    failures take one out); a request whose replica refused the connection or died before
    answering is sent again to another (the endpoint deduplicates)."""
    servers = "\n".join(
        f"    server r{i} 127.0.0.1:{p} check inter 200ms fall 2 rise 2" for i, p in enumerate(replicas)
    )
    return f"""global
    maxconn 512

defaults
    mode http
    timeout connect 1s
    timeout client 15s
    timeout server 15s
    timeout check 1s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout 503

frontend webhooks
    bind 127.0.0.1:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /healthz
{servers}
"""


@contextlib.contextmanager
def running(directory: Path, port: int, replicas: Sequence[int]) -> Iterator[subprocess.Popen[bytes]]:
    """HAProxy with :func:`config` (written to ``directory/haproxy.cfg``, its log to
    ``directory/haproxy.log``), until the block ends."""
    if not HAPROXY.exists():
        raise RuntimeError(f"no {HAPROXY}: `apt-get install -y haproxy` (`make haproxy`)")
    path = directory / "haproxy.cfg"
    path.write_text(config(port, replicas))
    with open(directory / "haproxy.log", "ab") as log:
        process = subprocess.Popen(
            [str(HAPROXY), "-db", "-f", str(path)], cwd=directory, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            process.terminate()
            process.wait(10)
