"""Where a downloaded attachment's bytes go: one seam, two implementations, chosen by
``RCINBOX_ATTACHMENT_STORAGE`` (:func:`storage_for`).

- :class:`FileStorage` (``files``, the default on SQLite): ``DATA_DIR/attachments/<extension
  id>/<message id>/<name>.<ext>``, written to a temporary file in the target directory, fsynced
  and renamed into place (atomic); chunks are written from a worker thread (the event loop never
  waits on the disk); directories 0700, files 0600 (:mod:`rcinbox.private`). The record's ``path``
  is the file's, relative to DATA_DIR. Files live on the machine that downloaded them.
- :class:`DatabaseStorage` (``database``, the default on PostgreSQL): the bytes are spooled to a
  temporary file (in memory up to :data:`SPOOL_IN_MEMORY` bytes, on disk beyond: the download's
  size cap bounds it) and, once complete, inserted into ``attachment_bodies`` keyed by their
  SHA-256 (:mod:`rcinbox.store.bodies`: identical contents are stored once). The record's ``path``
  is NULL: its ``sha256`` names the body. Every replica reads them; a dump of the database holds them.

The fetcher (:mod:`rcinbox.service.attachments`) opens a :class:`Sink` per download, writes the
chunks as they stream (it counts the size and the SHA-256 itself), then commits (the record's
``path``) or discards it (a refusal, an error, a cancellation: nothing is left behind).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from pathlib import Path
from typing import IO, Literal, Protocol

from rcinbox.private import open_private, private_dir
from rcinbox.store import Store

StorageName = Literal["files", "database"]
SPOOL_IN_MEMORY = 1_000_000  # bytes a database-bound download keeps in memory before spooling to disk


class UnsafePath(ValueError):
    """A target outside the attachments directory (never expected: every part is rcinbox's)."""


class Sink(Protocol):
    """One download's bytes on their way to storage."""

    async def write(self, chunk: bytes) -> None: ...

    async def commit(self, sha256: str) -> str | None:
        """Keep the bytes written; the record's ``path`` (``None``: in the database)."""
        ...

    async def discard(self) -> None: ...


class Storage(Protocol):
    name: StorageName

    async def open(self, relative: Path, suffix: str) -> Sink:
        """A sink for ``<relative>.<suffix>`` (``relative``: extension id / message id / name)."""
        ...


class FileStorage:
    name: StorageName = "files"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "attachments"

    def __repr__(self) -> str:
        return f"FileStorage({str(self.root)!r})"

    async def open(self, relative: Path, suffix: str) -> Sink:
        target = self.root / relative.parent / f"{relative.name}.{suffix}"
        if not target.resolve().is_relative_to(self.root.resolve()):  # belt and braces
            raise UnsafePath(str(relative))
        part = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        handle = await asyncio.to_thread(_open_part, part)
        return _FileSink(handle, part, target, target.relative_to(self.data_dir).as_posix())


class _FileSink:
    def __init__(self, handle: IO[bytes], part: Path, target: Path, path: str) -> None:
        self.handle, self.part, self.target, self.path = handle, part, target, path

    async def write(self, chunk: bytes) -> None:
        await asyncio.to_thread(self.handle.write, chunk)  # a slow disk must not stall the loop

    async def commit(self, sha256: str) -> str | None:
        await asyncio.to_thread(_commit, self.handle, self.part, self.target)
        return self.path

    async def discard(self) -> None:
        await asyncio.to_thread(_discard, self.handle, self.part)


class DatabaseStorage:
    name: StorageName = "database"

    def __init__(self, store: Store) -> None:
        self.store = store

    def __repr__(self) -> str:
        return f"DatabaseStorage({self.store!r})"

    async def open(self, relative: Path, suffix: str) -> Sink:
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (the sink closes it)
        return _DatabaseSink(self.store, spool)


class _DatabaseSink:
    def __init__(self, store: Store, spool: IO[bytes]) -> None:
        self.store, self.spool = store, spool

    async def write(self, chunk: bytes) -> None:
        await asyncio.to_thread(self.spool.write, chunk)  # beyond the spool's memory: a disk write

    async def commit(self, sha256: str) -> str | None:
        try:
            content = await asyncio.to_thread(_read_all, self.spool)
        finally:
            self.spool.close()
        await self.store.bodies.put(sha256, content)  # a body stored already: nothing added
        return None

    async def discard(self) -> None:
        self.spool.close()


def storage_for(name: StorageName, data_dir: Path, store: Store) -> Storage:
    """The storage ``RCINBOX_ATTACHMENT_STORAGE`` names."""
    return DatabaseStorage(store) if name == "database" else FileStorage(data_dir)


def _read_all(spool: IO[bytes]) -> bytes:
    spool.seek(0)
    return spool.read()


def _open_part(part: Path) -> IO[bytes]:
    private_dir(part.parent)
    prefix = part.name.rsplit(".", 2)[0]  # ".<name>.<ext>" without ".<random>.part"
    for stale in part.parent.glob(f"{prefix}.*.part"):  # left by a process that died mid-download
        stale.unlink(missing_ok=True)
    return os.fdopen(open_private(part), "wb")


def _commit(handle: IO[bytes], part: Path, target: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.replace(part, target)


def _discard(handle: IO[bytes], part: Path) -> None:
    handle.close()
    part.unlink(missing_ok=True)
