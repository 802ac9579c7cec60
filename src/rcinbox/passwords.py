"""The dashboard's admin password, kept only as a scrypt hash.

``RCINBOX_ADMIN_PASSWORD`` is turned into a :class:`PasswordHash` the moment
:mod:`rcinbox.settings` reads it (:func:`parse_admin_password`): the plaintext is never stored,
logged or shown (``repr`` is masked). :meth:`PasswordHash.encode` gives the one-line form kept in
the archive's ``kv`` table for a generated password (``scrypt$n$r$p$salt$digest``, base64 parts);
:meth:`PasswordHash.verify` compares a candidate in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from rcinbox.errors import ConfigError

# scrypt's cost: 16 MiB of memory and about 50 ms a hash (OWASP's minimum is n=2**17 with r=8
# for interactive logins on servers; a sign-in page behind a rate limit is fine with 2**14).
N, R, P = 2**14, 8, 1
MIN_LENGTH = 8


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, repr=False)
class PasswordHash:
    salt: bytes
    digest: bytes
    n: int = N
    r: int = R
    p: int = P

    @classmethod
    def of(cls, password: str, salt: bytes | None = None) -> PasswordHash:
        salt = salt if salt is not None else secrets.token_bytes(16)
        return cls(salt, _scrypt(password, salt, N, R, P))

    def verify(self, candidate: str) -> bool:
        """``True`` when ``candidate`` is the password (constant-time comparison)."""
        return hmac.compare_digest(_scrypt(candidate, self.salt, self.n, self.r, self.p), self.digest)

    def encode(self) -> str:
        return f"scrypt${self.n}${self.r}${self.p}${_b64(self.salt)}${_b64(self.digest)}"

    @classmethod
    def decode(cls, text: str) -> PasswordHash:
        """The form :meth:`encode` wrote; ``ValueError`` on anything else."""
        parts = text.split("$")
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError("not an encoded scrypt password hash")
        n, r, p = (int(part) for part in parts[1:4])
        return cls(_unb64(parts[4]), _unb64(parts[5]), n, r, p)

    def fingerprint(self) -> str:
        """A short, non-reversible tag of this hash (a session signed under another password is void)."""
        return hashlib.sha256(self.digest).hexdigest()[:16]

    def __repr__(self) -> str:
        return "PasswordHash(***)"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def parse_admin_password(name: str, text: str) -> PasswordHash:
    """The settings parser: the hash of ``text`` (errors name ``name``, never the value)."""
    if len(text) < MIN_LENGTH:
        raise ConfigError(f"{name} must be at least {MIN_LENGTH} characters long")
    return PasswordHash.of(text)


def generate_password() -> str:
    """A new random admin password (about 96 bits), easy to copy: letters and digits."""
    return secrets.token_urlsafe(12)
