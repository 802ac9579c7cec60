"""Phone numbers as the messaging API reads them: lenient input, E.164 out, short codes spotted."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PUNCTUATION = re.compile(r"[\s\-().]")
MIN_DIGITS = 7  # fewer digits than this is a short code (MSG-247)


@dataclass(frozen=True)
class Parsed:
    number: str  # "+" and digits
    short: bool  # a short code or otherwise not a full international number


def parse(raw: str) -> Parsed | None:
    """``+16505550100``, ``16505550100``, ``(650) 555-0100`` → ``+16505550100``; junk → None.

    A query string that was not percent-encoded turns ``+`` into a space; that is accepted too.
    """
    cleaned = _PUNCTUATION.sub("", raw)
    international = cleaned.startswith("+") or raw.startswith(" ")
    digits = cleaned.removeprefix("+")
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > 15:
        return None
    if international:
        return Parsed("+" + digits, len(digits) < MIN_DIGITS)
    if len(digits) == 10:
        return Parsed("+1" + digits, False)
    if len(digits) == 11 and digits.startswith("1"):
        return Parsed("+" + digits, False)
    return Parsed("+" + digits, True)


def e164(raw: str) -> str | None:
    """The E.164 form of a full number, or None (junk or short code)."""
    parsed = parse(raw)
    return parsed.number if parsed is not None and not parsed.short else None
