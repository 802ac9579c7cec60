"""RingCentral's timestamps, read and written in one place.

The platform writes ISO-8601 in several spellings: ``2026-11-27T10:00:00.123Z`` (REST and
notifications), ``2020-09-07T21:50:02.737+0000`` (WebSocket ConnectionDetails),
``2020-01-15T12:00:01Z`` (no fraction), ``…+00:00``. :func:`parse_time` reads all of them (a
time without an offset is taken as UTC) and returns an aware UTC ``datetime``; anything else is
one ``ValueError`` that names the field. :func:`rc_time` writes the platform's own spelling.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: object, where: str = "time") -> datetime:
    """``value`` (a RingCentral timestamp) as an aware UTC datetime; ``ValueError`` on junk."""
    if not isinstance(value, str):
        raise ValueError(f"{where} is missing or not a string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where} is not an ISO-8601 timestamp: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00: before the first representable instant
        raise ValueError(f"{where} is out of range: {value[:40]!r}") from None


def maybe_time(value: object) -> datetime | None:
    """:func:`parse_time`, or ``None`` when ``value`` is missing or unreadable."""
    try:
        return parse_time(value)
    except ValueError:
        return None


def rc_time(moment: datetime) -> str:
    """RingCentral's timestamp format: ``2026-11-27T10:00:00.000Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
