"""``RCINBOX_SENDER_JWTS``: the credentials that send replies for other users' extensions, kept
so that neither ``repr`` nor an error message ever shows one (read by :mod:`rcinbox.settings`)."""

from __future__ import annotations

from dataclasses import dataclass

from rcinbox.errors import ConfigError


@dataclass(frozen=True, repr=False)
class SenderJwts:
    """``RCINBOX_SENDER_JWTS``: extension id → the JWT of that extension's own user, which is what
    may send SMS from its numbers. ``repr`` shows the extension ids only."""

    pairs: tuple[tuple[str, str], ...] = ()

    def get(self, extension_id: str) -> str | None:
        return next((jwt for ext, jwt in self.pairs if ext == extension_id), None)

    @property
    def extensions(self) -> tuple[str, ...]:
        return tuple(ext for ext, _ in self.pairs)

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def __repr__(self) -> str:
        return f"SenderJwts({', '.join(f'{ext}=***' for ext in self.extensions)})"


NO_SENDER_JWTS = SenderJwts()  # the default: every extension is the JWT user's own


def parse_sender_jwts(name: str, text: str) -> SenderJwts:
    """``ext=JWT,ext=JWT``; an error names the variable and the entry's position, never its text."""
    pairs: dict[str, str] = {}
    for position, entry in enumerate((part.strip() for part in text.split(",")), start=1):
        if not entry:
            continue
        ext, found, jwt = (side.strip() for side in entry.partition("="))
        if not found or not jwt:
            raise ConfigError(f"{name} entry {position} must be extensionId=JWT")
        if not ext.isdigit():
            raise ConfigError(f"{name} entry {position} must start with a numeric extension id")
        if ext in pairs:
            raise ConfigError(f"{name} gives extension {ext} twice")
        pairs[ext] = jwt
    return SenderJwts(tuple(pairs.items()))
