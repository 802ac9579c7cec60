"""The reply text: placeholder values for a sender, rendering, GSM-7 fitting.

Built-in placeholders: ``first_name``, ``last_name``, ``name`` (about the sender; absent when
unknown) and ``return_date`` / ``return_time`` (``vacation.end`` in the rules' time zone, e.g.
"Monday, January 4" and "8:00 AM"); plus every key of ``[vacation.values]``. English names are
fixed here rather than taken from the process locale, so output never depends on the machine.

:func:`compose` sends GSM-7 whenever it can: typographic punctuation is transliterated
(:func:`rcinbox.rules.sms.fit`), and when only the sender's name still forces UCS-2 ("Zoë",
"María"), its accents are folded ("Zoe", "Maria"); letters GSM-7 has ("José") are kept.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from rcinbox.rules.config import Rules
from rcinbox.rules.sms import encoding, fit, is_gsm7
from rcinbox.rules.template import render

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


def reply_values(
    rules: Rules, first_name: str | None, last_name: str | None = None, name: str | None = None
) -> dict[str, str | None]:
    """Every placeholder value for one sender (``None`` where unknown)."""
    vacation = rules.vacation
    values: dict[str, str | None] = dict(vacation.values)
    end = vacation.end.astimezone(vacation.timezone) if vacation.end is not None else None
    full = name or " ".join(part for part in (first_name, last_name) if part) or None
    values.update(
        first_name=first_name,
        last_name=last_name,
        name=full,
        return_date=format_date(end) if end else None,
        return_time=format_time(end) if end else None,
    )
    return values


def compose(
    rules: Rules, first_name: str | None, last_name: str | None = None, name: str | None = None
) -> str:
    """The vacation message for one sender, as it is sent (GSM-7 whenever that is possible)."""
    text = fit(render(rules.vacation.message, reply_values(rules, first_name, last_name, name)))
    if encoding(text) == "GSM-7":
        return text
    first, last, full = (fold_accents(part) if part else part for part in (first_name, last_name, name))
    folded = fit(render(rules.vacation.message, reply_values(rules, first, last, full)))
    return folded if encoding(folded) == "GSM-7" else text


def fold_accents(text: str) -> str:
    """Drop the accents GSM-7 cannot carry (``Zoë`` → ``Zoe``); GSM-7 letters (``é``, ``ñ``) stay."""
    return "".join(char if is_gsm7(char) else _strip_marks(char) for char in text)


def _strip_marks(char: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base if base and all(is_gsm7(c) for c in base) else char
