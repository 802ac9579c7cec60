"""What the dashboard signs in with, kept in the archive's ``kv`` table: the admin password's hash
and the session key.

``RCINBOX_ADMIN_PASSWORD`` (already a hash in :class:`~rcinbox.settings.Settings`) wins. Without
it, the hash stored at an earlier start is used; at the very first start a password is generated,
handed to ``announce`` once (the service writes it on the console, never into the log) and only
its hash is stored. The session key (random, 32 bytes) is created once and kept, so a session
survives a restart; the ids signed out are kept too.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rcinbox.dashboard.auth import new_key
from rcinbox.passwords import PasswordHash, generate_password

PASSWORD_KEY = "dashboard.password"
SESSION_KEY = "dashboard.session_key"
SIGNED_OUT_KEY = "dashboard.signed_out"


class KeyValue(Protocol):
    async def kv_get(self, key: str) -> str | None: ...

    async def kv_put(self, key: str, value: str) -> None: ...

    async def kv_setdefault(self, key: str, value: str) -> str: ...

    def kv_locked(self, key: str) -> contextlib.AbstractAsyncContextManager[LockedValue]: ...


class LockedValue(Protocol):
    value: str | None

    async def put(self, value: str) -> None: ...


@dataclass(frozen=True, repr=False)
class Credentials:
    password: PasswordHash
    session_key: bytes
    signed_out: dict[str, float]
    source: str  # "environment", "stored" or "generated"

    def __repr__(self) -> str:
        return f"Credentials(source={self.source!r})"


async def load_credentials(
    kv: KeyValue, configured: PasswordHash | None, announce: Callable[[str], None]
) -> Credentials:
    password, source = configured, "environment"
    if password is None:
        stored = await kv.kv_get(PASSWORD_KEY)
        if stored:
            password, source = PasswordHash.decode(stored), "stored"
        else:  # replicas starting together: the first one's password is everyone's
            plain = generate_password()
            mine = PasswordHash.of(plain).encode()
            stored = await kv.kv_setdefault(PASSWORD_KEY, mine)
            password, source = PasswordHash.decode(stored), "generated" if stored == mine else "stored"
            if stored == mine:
                announce(plain)
    key_hex = await kv.kv_setdefault(SESSION_KEY, new_key().hex())  # one key for every replica
    return Credentials(password, bytes.fromhex(key_hex), await signed_out_now(kv), source)


async def sign_out(kv: KeyValue, sid: str, expires: float, now: float) -> dict[str, float]:
    """Record ``sid`` as signed out until it ``expires``, beside the ones already recorded (by
    this process or another replica), the expired ones dropped; the list as it now stands."""
    async with kv.kv_locked(SIGNED_OUT_KEY) as row:  # replicas signing out at once lose none
        recorded = {sid: exp for sid, exp in signed_out_in(row.value).items() if exp > now}
        recorded[sid] = expires
        await row.put(json.dumps(recorded))
    return recorded


async def signed_out_now(kv: KeyValue) -> dict[str, float]:
    """The signed-out sessions as recorded now (what other replicas signed out too)."""
    return signed_out_in(await kv.kv_get(SIGNED_OUT_KEY))


def signed_out_in(raw: str | None) -> dict[str, float]:
    return {str(k): float(v) for k, v in json.loads(raw).items()} if raw else {}
