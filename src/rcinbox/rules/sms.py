"""SMS encoding arithmetic: GSM-7 (3GPP TS 23.038) versus UCS-2, segments, transliteration.

A text that uses only the GSM-7 default alphabet (plus its extension table, where each character
costs two septets: ``^ { } \\ [ ~ ] | €`` and form feed) travels as GSM-7: 160 characters in one
segment, 153 per segment once it is split (the rest is the concatenation header). A single other
character (a curly quote, an emoji, most accented letters) switches the whole text to UCS-2: 70
UTF-16 code units in one segment, 67 per segment when split. Splitting never cuts an escape pair or
a surrogate pair in half, so :func:`segments` packs greedily exactly as handsets do.

:func:`transliterate` replaces typographic punctuation (quotes, dashes, ellipsis, bullets, exotic
spaces) with GSM-7 equivalents; :func:`fit` applies it only when that makes the text GSM-7. Letters
are never changed (a name keeps its accents).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

_TRANSLIT: dict[str, str] = {
    # double quotes
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u201e": '"',  # „
    "\u201f": '"',  # ‟
    "\u2033": '"',  # ″
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    "\u02ba": '"',  # ʺ
    # single quotes and apostrophes
    "\u2018": "'",  # ‘
    "\u2019": "'",  # ’
    "\u201a": "'",  # ‚
    "\u201b": "'",  # ‛
    "\u2032": "'",  # ′
    "\u2039": "'",  # ‹
    "\u203a": "'",  # ›
    "\u00b4": "'",  # ´
    "\u0060": "'",  # `
    "\u02bc": "'",  # ʼ
    # dashes and hyphens
    "\u2010": "-",  # ‐
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # ‒
    "\u2013": "-",  # –
    "\u2014": "-",  # —
    "\u2015": "-",  # ―
    "\u2212": "-",  # minus sign
    "\u00ad": "",  # soft hyphen
    # ellipsis and bullets
    "\u2026": "...",  # …
    "\u2022": "-",  # •
    "\u00b7": "-",  # ·
    "\u2027": "-",  # ‧
    # exotic spaces and invisible characters
    "\u00a0": " ",  # no-break space
    "\u2007": " ",
    "\u202f": " ",  # narrow no-break space
    "\u205f": " ",
    "\u3000": " ",
    "\u200b": "",  # zero-width space
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",
    "\ufeff": "",
    "\t": " ",
}
_TRANSLIT.update({chr(c): " " for c in range(0x2000, 0x200B)})  # en quad .. hair space


def is_gsm7(char: str) -> bool:
    return char in GSM7_BASIC or char in GSM7_EXTENSION


def encoding(text: str) -> Encoding:
    """``"GSM-7"`` when every character is in the GSM-7 alphabet (basic or extension), else UCS-2."""
    return "GSM-7" if all(is_gsm7(c) for c in text) else "UCS-2"


def non_gsm_chars(text: str) -> list[str]:
    """The distinct characters that force UCS-2, in order of first appearance."""
    seen: dict[str, None] = {}
    for char in text:
        if not is_gsm7(char):
            seen.setdefault(char)
    return list(seen)


def units(text: str) -> int:
    """Length in the text's encoding: septets for GSM-7 (extension chars count 2), UTF-16 units otherwise."""
    return sum(_costs(text))


def segments(text: str) -> int:
    """How many SMS segments the text needs (0 for the empty text)."""
    costs = list(_costs(text))
    single, multi = (GSM7_SINGLE, GSM7_MULTI) if encoding(text) == "GSM-7" else (UCS2_SINGLE, UCS2_MULTI)
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    count, used = 1, 0
    for cost in costs:  # a 2-unit character (escape pair / surrogate pair) is never split
        if used + cost > multi:
            count, used = count + 1, 0
        used += cost
    return count


def transliterate(text: str) -> str:
    """Replace typographic punctuation and exotic spaces with GSM-7 look-alikes; letters are kept."""
    return "".join(_TRANSLIT.get(char, char) for char in text)


def fit(text: str) -> str:
    """The text as it should be sent: transliterated when that makes it GSM-7, else unchanged."""
    if encoding(text) == "GSM-7":
        return text
    converted = transliterate(text)
    return converted if encoding(converted) == "GSM-7" else text


def describe(chars: Iterable[str]) -> str:
    """``“ (U+201C), ’ (U+2019)`` — for warnings that name the offending characters."""
    return ", ".join(f"{c!r} (U+{ord(c):04X})" if c.isspace() else f"{c} (U+{ord(c):04X})" for c in chars)


def _costs(text: str) -> Iterable[int]:
    if encoding(text) == "GSM-7":
        return (2 if c in GSM7_EXTENSION else 1 for c in text)
    return (2 if ord(c) > 0xFFFF else 1 for c in text)
