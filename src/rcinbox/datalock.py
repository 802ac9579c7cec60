"""One rcinbox per data directory: an OS file lock on ``DATA_DIR/rcinbox.lock``.

Two services on one data directory would share ``tokens.json`` (each one's token refresh ends the
other's session) and the archive (both would receive, decide and answer every text). So the
service takes an exclusive ``flock`` on the lock file before it opens the store or logs in, and
writes its pid into it; a second one is refused at once with :class:`DataDirInUse`, which names the
directory and that pid. The operating system releases the lock when the process ends, however it
ends (``kill -9``, a crash, a power cut), so a lock file left behind never blocks the next start.

Within one process the lock is re-entrant: ``rcinbox demo`` takes it before it wipes its directory,
then the service it starts takes it again. ``rcinbox messages`` and ``rcinbox doctor`` do not take
it: they only read the archive (SQLite lets readers work beside the writer) or talk to the platform
with a session of their own, so they work while the service runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from rcinbox.errors import DataDirInUse
from rcinbox.private import FILE_MODE

LOCK_NAME = "rcinbox.lock"

_held: dict[Path, list[int]] = {}  # data directory (resolved) -> [lock file descriptor, holders]


@contextlib.contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[Path]:
    """Hold ``data_dir``'s lock for the block (the directory must exist); the lock file's path."""
    key = Path(data_dir).resolve()
    path = key / LOCK_NAME
    held = _held.get(key)
    if held is None:
        held = _held[key] = [_acquire(key, path), 0]
    held[1] += 1
    try:
        yield path
    finally:
        held[1] -= 1
        if not held[1]:
            del _held[key]
            os.close(held[0])  # releases the lock; the file stays (deleting it would race a new holder)


def _acquire(data_dir: Path, path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _pid_in(fd)
        os.close(fd)
        raise DataDirInUse(data_dir, pid) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _pid_in(fd: int) -> int | None:
    """The holder's pid as it wrote it (``None``: not written yet, or unreadable)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def holder(data_dir: Path) -> int | None:
    """The pid of the process that holds ``data_dir``'s lock (0 when it cannot be read), ``None``
    when nobody holds it. Takes nothing and creates nothing (``rcinbox doctor`` asks)."""
    try:
        fd = os.open(Path(data_dir) / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _pid_in(fd) or 0
    finally:
        os.close(fd)
    return None
