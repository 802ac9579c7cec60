"""Where the OAuth session is kept between starts, and who may renew it.

:class:`~rcinbox.platform.auth.TokenManager` renews the session inside
:meth:`SessionVault.renewing`, which hands it the pair as the vault holds it now and saves the
new one:

- :class:`FileVault` (one process, the SQLite default): the token file, private (0600) and
  written atomically (:mod:`rcinbox.platform.tokenfile`). The process is the only one on its data
  directory, so nothing else renews meanwhile.
- :class:`SharedVault` (replicas on PostgreSQL): one row of the shared database per user (the
  service gives it the store's rows, :class:`SharedRows`), locked for the renewal (``SELECT …
  FOR UPDATE``): one replica renews at a time, and one that waited for the lock finds the pair
  the other saved and takes it instead of renewing again. RingCentral rotates the refresh token
  at each refresh (the old one stops working), so two replicas refreshing from the same pair
  would lose the session; this is what prevents it.
- :class:`NoVault`: nothing kept (``rcinbox doctor`` without a saved session).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rcinbox.errors import StoreError
from rcinbox.platform.tokenfile import Token, TokenFile, decode, encode

log = logging.getLogger("rcinbox.platform")

KEY_PREFIX = "oauth.session."  # + the credentials' fingerprint: one row per server/app/user


class Renewal(Protocol):
    """One renewal in progress: the pair the vault holds now (``None``: none, or not newer than
    the caller's), and where the new one goes."""

    current: Token | None

    async def save(self, token: Token) -> None: ...


class SessionVault(Protocol):
    async def load(self) -> Token | None: ...

    def renewing(self) -> contextlib.AbstractAsyncContextManager[Renewal]:
        """For the block, no other process sharing this vault renews the session."""
        ...


class LockedRow(Protocol):
    """A row of the shared database, locked until the block that gave it ends."""

    value: str | None

    async def put(self, value: str) -> None: ...


class SharedRows(Protocol):
    """What the store offers the session (``kv`` rows; :meth:`rcinbox.store.Store.kv_locked`)."""

    async def kv_get(self, key: str) -> str | None: ...

    def kv_locked(self, key: str) -> contextlib.AbstractAsyncContextManager[LockedRow]: ...


@dataclass
class _Saving:
    current: Token | None
    file: TokenFile | None

    async def save(self, token: Token) -> None:
        if self.file is None:
            return
        try:
            await asyncio.to_thread(self.file.save, token)
        except OSError as exc:  # not fatal: the session works, a restart would just log in again
            log.error("could not save the OAuth session to %s: %s", self.file.path, exc.strerror or exc)


class NoVault:
    async def load(self) -> Token | None:
        return None

    @contextlib.asynccontextmanager
    async def renewing(self) -> AsyncIterator[Renewal]:
        yield _Saving(None, None)


class FileVault:
    def __init__(self, path: Path, fingerprint: str) -> None:
        self.file = TokenFile(path, fingerprint)

    def __repr__(self) -> str:
        return f"FileVault({str(self.file.path)!r})"

    async def load(self) -> Token | None:
        return await asyncio.to_thread(self.file.load)

    @contextlib.asynccontextmanager
    async def renewing(self) -> AsyncIterator[Renewal]:
        yield _Saving(None, self.file)  # the only process: the pair in memory is the latest


@dataclass
class _SharedRenewal:
    current: Token | None
    row: LockedRow
    fingerprint: str

    async def save(self, token: Token) -> None:
        try:
            await self.row.put(encode(token, self.fingerprint))
        except StoreError as exc:  # the others will log in again with the JWT: slower, not lost
            log.error("could not save the OAuth session in the database: %s", exc)


class SharedVault:
    def __init__(self, rows: SharedRows, fingerprint: str) -> None:
        self.rows = rows
        self.fingerprint = fingerprint
        self.key = KEY_PREFIX + fingerprint

    def __repr__(self) -> str:
        return f"SharedVault({self.key!r})"

    async def load(self) -> Token | None:
        return self._token(await self.rows.kv_get(self.key))

    @contextlib.asynccontextmanager
    async def renewing(self) -> AsyncIterator[Renewal]:
        async with self.rows.kv_locked(self.key) as row:
            yield _SharedRenewal(self._token(row.value), row, self.fingerprint)

    def _token(self, value: str | None) -> Token | None:
        if not value:
            return None
        try:
            data = json.loads(value)
        except ValueError:
            log.warning("ignoring an unreadable OAuth session in the database (%s)", self.key)
            return None
        return decode(data, self.fingerprint, f"the OAuth session in the database ({self.key})")
