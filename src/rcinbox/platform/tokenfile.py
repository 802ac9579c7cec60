"""The OAuth token pair and its file: private (0600), written atomically, tied to one login.

The file is written as a fresh temporary file created with mode 0600 in the same directory, fsynced
and renamed over the old one, so a crash leaves either the old or the new pair, never half of one,
and the file is never readable by others, not even for an instant. It records a fingerprint of
(server, client id, JWT) so a changed configuration does not reuse another user's session.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger("rcinbox.platform")
FORMAT = 1


@dataclass(frozen=True, repr=False)
class Token:
    """One access/refresh token pair; times are epoch seconds. ``repr`` hides the tokens."""

    access_token: str
    expires_at: float
    expires_in: float
    refresh_token: str
    refresh_expires_at: float
    issued_at: float
    owner_id: str = ""
    scope: str = ""

    def __repr__(self) -> str:
        return (
            f"Token(access_token=***, refresh_token=***, owner_id={self.owner_id!r}, "
            f"expires_at={self.expires_at:.0f}, refresh_expires_at={self.refresh_expires_at:.0f})"
        )


class TokenFile:
    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint

    def __repr__(self) -> str:
        return f"TokenFile({str(self.path)!r})"

    def load(self) -> Token | None:
        """The saved pair if it exists, parses, and belongs to this server/app/user; else None."""
        try:
            mode = self.path.stat().st_mode
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable token file %s (%s)", self.path, type(exc).__name__)
            return None
        if stat.S_IMODE(mode) & 0o077:
            log.warning("token file %s was readable by others; restricting it to 0600", self.path)
            with contextlib.suppress(OSError):
                os.chmod(self.path, 0o600)
        return decode(data, self.fingerprint, f"token file {self.path}")

    def save(self, token: Token) -> None:
        """Atomically replace the file with ``token`` (mode 0600 from the first byte)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = encode(token, self.fingerprint)
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(payload)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def encode(token: Token, fingerprint: str) -> str:
    """The pair as saved (in the file, or in the shared database for replicas)."""
    return json.dumps({"format": FORMAT, "fingerprint": fingerprint, "token": asdict(token)})


def decode(data: object, fingerprint: str, where: str) -> Token | None:
    """The pair in ``data`` (parsed JSON) if it is ours (this server/app/user); else ``None``."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    if data.get("fingerprint") != fingerprint:
        log.info("%s belongs to another server/app/user; ignoring it", where)
        return None
    try:
        return Token(**data["token"])
    except (KeyError, TypeError):
        return None
