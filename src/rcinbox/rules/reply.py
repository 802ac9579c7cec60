"""The reply text: placeholder values for a sender (:mod:`rcinbox.rules.values`), rendering, GSM-7
fitting.

:func:`compose` sends GSM-7 whenever it can: typographic punctuation is transliterated
(:func:`rcinbox.rules.sms.fit`), and when only the sender's name still forces UCS-2 ("Zoë",
"María"), its accents are folded ("Zoe", "Maria"); letters GSM-7 has ("José") are kept.
"""

from __future__ import annotations

import unicodedata

from rcinbox.rules.config import Rules
from rcinbox.rules.sms import encoding, fit, is_gsm7
from rcinbox.rules.template import render
from rcinbox.rules.values import format_date, format_time, placeholder_values

__all__ = ["compose", "fold_accents", "format_date", "format_time", "reply_values"]


def reply_values(
    rules: Rules, first_name: str | None, last_name: str | None = None, name: str | None = None
) -> dict[str, str | None]:
    """Every placeholder value for one sender (``None`` where unknown)."""
    vacation = rules.vacation
    return placeholder_values(vacation.values, vacation.end, vacation.timezone, first_name, last_name, name)


def compose(
    rules: Rules,
    first_name: str | None,
    last_name: str | None = None,
    name: str | None = None,
    template: str | None = None,
) -> str:
    """The vacation message (or ``template``, a smart reply) for one sender, as it is sent (GSM-7
    whenever that is possible)."""
    template = rules.vacation.message if template is None else template
    text = fit(render(template, reply_values(rules, first_name, last_name, name)))
    if encoding(text) == "GSM-7":
        return text
    first, last, full = (fold_accents(part) if part else part for part in (first_name, last_name, name))
    folded = fit(render(template, reply_values(rules, first, last, full)))
    return folded if encoding(folded) == "GSM-7" else text


def fold_accents(text: str) -> str:
    """Drop the accents GSM-7 cannot carry (``Zoë`` → ``Zoe``); GSM-7 letters (``é``, ``ñ``) stay."""
    return "".join(char if is_gsm7(char) else _strip_marks(char) for char in text)


def _strip_marks(char: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base if base and all(is_gsm7(c) for c in base) else char
