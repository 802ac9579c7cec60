"""Is the other side a machine? SMS has no ``Auto-Submitted`` header, so rcinbox infers it.

:func:`sender_kind` classifies the sender address:

- ``"short-code"``: 3 to 6 digits (``"12345"``, ``"+12345"``, ``"898-287"``) — marketing and
  verification programmes; RingCentral cannot even send to them (SMS-CAR-460 / MSG-247).
- ``"alphanumeric"``: a sender id with letters (``"AMAZON"``, ``"VERIFY-ME"``; at most 11 characters).
- ``"invalid"``: empty, anonymous/private/unknown/restricted, e-mail gateways (``@``), or anything
  ``phonenumbers`` does not accept as a valid number (default region US).
- ``"ok"``: a valid phone number.

:func:`looks_automated` spots texts written by machines: auto-replies ("Auto-reply:", "automatic
reply", "this is an automated message", "out of office", "I'm away until ..."), marketing footers
("Reply STOP to opt out", "Msg&data rates may apply", "Txt STOP"), carrier notices ("NETWORK MSG",
"Free Msg:") and verification codes ("Your code is 123456", "verification code"). Phrases a person
might use in passing ("I'll be away next week", "can you stop by?") need a second, machine-like cue.
"""

from __future__ import annotations

import re
from typing import Literal

from rcinbox.numbers import to_e164

SenderKind = Literal["ok", "short-code", "alphanumeric", "invalid"]

_ANONYMOUS = frozenset({"anonymous", "private", "unknown", "restricted", "blocked", "unavailable"})
_FORMATTING = re.compile(r"[\s().-]+")
_SHORT_CODE = re.compile(r"\+?\d{3,6}")
_ALNUM_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9][A-Za-z0-9 .&_'-]{0,10}")


def sender_kind(number: str | None) -> SenderKind:
    """Classify a sender address (see the module docstring)."""
    raw = (number or "").strip()
    if not raw or raw.lower() in _ANONYMOUS or "@" in raw:
        return "invalid"
    compact = _FORMATTING.sub("", raw)
    if _SHORT_CODE.fullmatch(compact):
        return "short-code"
    if _ALNUM_ID.fullmatch(raw) and not raw.startswith("+"):
        return "alphanumeric"
    return "ok" if to_e164(raw) else "invalid"


_I = re.IGNORECASE
_STRONG = [
    # auto-replies
    re.compile(r"^\W*\[?\s*auto(?:matic|mated)?[\s-]?(?:reply|response|responder|message)\b", _I),
    re.compile(r"\bautomatic reply\b|\bauto-?generated\b|\bautoreply\b", _I),
    re.compile(r"\bthis is an? (?:automated|automatic|auto-generated) (?:message|reply|response|text)\b", _I),
    re.compile(
        r"\b(?:please )?do not reply to this (?:message|text|number|sms)\b|\bno-?reply@|\bnoreply\b", _I
    ),
    re.compile(r"^\W*out of (?:the )?office\b", _I),
    # marketing footers
    re.compile(r"\b(?:reply|txt|text|send)\s+\W?stop\W?\s+(?:to|2)\b", _I),
    re.compile(r"\b(?:reply|txt|text)\s+\W?stop\W?\s*(?:$|[.,;)])", _I),
    re.compile(r"\bstop\s+to\s+(?:opt[\s-]?out|end|cancel|unsubscribe|quit|stop)\b", _I),
    re.compile(r"\bmsg\s*(?:&|and)\s*data\s+rates?\b|\bmessage\s+(?:&|and)\s+data\s+rates?\b", _I),
    # carrier notices
    re.compile(r"\bnetwork\s+msg\b|\bfree\s+msg\b|\bfree\s+message\s*:", _I),
    # verification codes
    re.compile(
        r"\b(?:verification|login|sign-?in|one[\s-]time|auth(?:entication)?|2fa|otp)\s+(?:code|pin|passcode)\b",
        _I,
    ),
    re.compile(r"\byour\s+(?:\w+\s+)?(?:code|pin|otp|passcode)\s+is\W{0,3}[A-Z]{0,3}-?\d{3,}", _I),
    re.compile(r"\b[A-Z]{0,3}-?\d{4,8}\s+is\s+your\s+(?:\w+\s+){0,2}(?:code|pin|otp|passcode)\b", _I),
]
# Phrases a person might write too: only automated together with a second cue.
_WEAK = re.compile(
    r"^\W*(?:i'?m|i am|i['’]?ll be|i will be)\s+(?:currently\s+)?(?:away|out of (?:the )?office|"
    r"on (?:vacation|holiday|leave|annual leave|pto))\b|\bout of (?:the )?office\b",
    _I,
)
_WEAK_CUE = re.compile(
    r"\b(?:until|returning|return on|back on|back in the office|limited access|"
    r"get back to you|respond (?:to your message )?(?:when|as soon|upon)|"
    r"for urgent|if (?:this|it) is urgent)\b",
    _I,
)


def looks_automated(text: str) -> bool:
    """True when the text reads like an auto-reply, marketing, a carrier notice or a one-time code."""
    normalised = text.replace("\u2019", "'")
    if any(pattern.search(normalised) for pattern in _STRONG):
        return True
    return bool(_WEAK.search(normalised) and _WEAK_CUE.search(normalised))
