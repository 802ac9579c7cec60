"""Phone-number normalisation to E.164 with ``phonenumbers`` (default region US).

Every comparison of numbers in rcinbox (allowlist, blocklist, address book, own numbers) goes through
:func:`to_e164`, so "+1 (650) 555-0100", "650.555.0100" and "+16505550100" are the same number.
Parsing a number costs tens of microseconds and the same few numbers come back all the time (a
sender's every text, the owner's numbers), so the last :data:`CACHED` answers are kept (the
functions are pure).
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "US"
CACHED = 4096
_DIGITS = re.compile(r"\+?(\d+)")


@lru_cache(maxsize=CACHED)
def to_e164(number: str, region: str = DEFAULT_REGION) -> str | None:
    """The number in E.164 (``+16505550100``), or ``None`` when it is not a valid phone number."""
    if not number or not number.strip():
        return None
    try:
        parsed = phonenumbers.parse(number.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


@lru_cache(maxsize=CACHED)
def same_key(number: str) -> str:
    """A comparison key: the E.164 form when valid, else — short codes and other digit strings —
    the digits alone ("+12345" and "12345" are one sender), else the trimmed text (sender ids)."""
    e164 = to_e164(number)
    if e164 is not None:
        return e164
    text = number.strip()
    digits = _DIGITS.fullmatch(text)
    return digits.group(1) if digits else text
