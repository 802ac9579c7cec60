"""Placeholder values: the sender's names and the return date and time, for rendering a reply and
for checking it against the segment budget with the longest realistic values.

Built-in placeholders: ``first_name``, ``last_name``, ``name`` (about the sender; absent when
unknown) and ``return_date`` / ``return_time`` (``vacation.end`` in the rules' time zone, e.g.
"Monday, January 4" and "8:00 AM"); plus every key of ``[vacation.values]``. English names are
fixed here rather than taken from the process locale, so output never depends on the machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo

LONG_FIRST_NAME = "Christopher"  # the budget's worst realistic case
LONG_LAST_NAME = "Richardson-Whitfield"
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_date(moment: datetime) -> str:
    """``Monday, January 4``."""
    return f"{_DAYS[moment.weekday()]}, {_MONTHS[moment.month - 1]} {moment.day}"


def format_time(moment: datetime) -> str:
    """``8:00 AM``, ``12:30 PM``."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def placeholder_values(
    values: Mapping[str, str],
    end: datetime | None,
    timezone: tzinfo,
    first_name: str | None,
    last_name: str | None = None,
    name: str | None = None,
) -> dict[str, str | None]:
    """Every placeholder value for one sender (``None`` where unknown); ``values`` are the owner's
    ``[vacation.values]``, ``end`` the end of the window."""
    filled: dict[str, str | None] = dict(values)
    local_end = end.astimezone(timezone) if end is not None else None
    full = name or " ".join(part for part in (first_name, last_name) if part) or None
    filled.update(
        first_name=first_name,
        last_name=last_name,
        name=full,
        return_date=format_date(local_end) if local_end else None,
        return_time=format_time(local_end) if local_end else None,
    )
    return filled


def worst_case_values(
    values: Mapping[str, str], end: datetime | None, timezone: tzinfo
) -> dict[str, str | None]:
    """The values a reply is budgeted with: a long first and last name, the real return date."""
    return placeholder_values(values, end, timezone, LONG_FIRST_NAME, LONG_LAST_NAME)
