"""Attachments stored in the database (``RCINBOX_ATTACHMENT_STORAGE=database``): the bytes of each
distinct content once, in ``attachment_bodies``, keyed by their SHA-256 (content-addressed). A
stored ``attachments`` row whose ``path`` is NULL names its body by ``sha256``.

:meth:`AttachmentBodies.put` inserts ``ON CONFLICT DO NOTHING`` (deduplication by the primary key):
identical pictures sent twice, or one download repeated (two replicas, a retry after a crash),
add nothing. Bodies are never changed nor deleted, so a reader needs no lock; PostgreSQL's dumps
(``pg_dump``) and SQLite's backup (``rcinbox db backup``) carry them with the rest of the archive.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.clock import Clock
from rcinbox.store.engine import insert_new, reading, transaction
from rcinbox.store.schema import attachment_bodies


class AttachmentBodies:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    async def put(self, sha256: str, content: bytes) -> bool:
        """Store ``content`` under its ``sha256`` (the caller's, computed while streaming); ``False``
        when that content was stored already (nothing is written)."""
        values = {"sha256": sha256, "size": len(content), "content": content, "stored_at": self.clock.now()}
        async with transaction(self.engine) as conn:
            result = await conn.execute(insert_new(conn.dialect.name, attachment_bodies, values))
        return bool(result.rowcount == 1)

    async def get(self, sha256: str) -> bytes | None:
        """The bytes stored under ``sha256`` (``None``: no such body)."""
        query = select(attachment_bodies.c.content).where(attachment_bodies.c.sha256 == sha256)
        async with reading(self.engine) as conn:
            return cast(bytes | None, await conn.scalar(query))

    async def count(self) -> int:
        """How many distinct contents are stored."""
        async with reading(self.engine) as conn:
            return int(await conn.scalar(select(func.count()).select_from(attachment_bodies)) or 0)
