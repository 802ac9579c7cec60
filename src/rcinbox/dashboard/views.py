"""How the pages write times and durations: in the owner's time zone, in words."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from rcinbox.store.explain import explain
from rcinbox.store.records import DecisionRecord


def when(moment: datetime | None, tz: tzinfo, *, with_zone: bool = False) -> str:
    """``Mon 21 Dec 2026, 10:00`` in ``tz`` (``—`` for none)."""
    if moment is None:
        return "—"
    local = moment.astimezone(tz)
    text = local.strftime("%a %d %b %Y, %H:%M")
    return f"{text} ({tz})" if with_zone else text


def ago(moment: datetime | None, now: datetime) -> str:
    """``3 min ago``, ``in 2 h``: the distance from ``now`` in a few words."""
    if moment is None:
        return "never"
    seconds = (moment - now).total_seconds()
    text = span(abs(seconds))
    if abs(seconds) < 60:
        return "just now" if seconds <= 0 else "in under a minute"
    return f"in {text}" if seconds > 0 else f"{text} ago"


def span(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min"
    if seconds < 2 * 86400:
        hours, rest = divmod(seconds, 3600)
        return f"{hours:.0f} h {rest // 60:.0f} min" if rest >= 60 else f"{hours:.0f} h"
    return f"{seconds // 86400:.0f} days"


def reason_words(reason: str) -> str:
    """Why texts went unanswered, in words ("not in your contacts (replies go to contacts only)")."""
    said = explain(
        DecisionRecord("suppress", reason, "", {}), datetime(1970, 1, 1, tzinfo=UTC)
    )  # no facts: no times
    return said.removeprefix("no reply: ")
