"""Opt-out, opt-in and help keywords: whole-message matching, any case, punctuation or spacing.

The message is normalised (Unicode NFKD, accents dropped, upper case, every non-alphanumeric run
turned into one space, trimmed) and compared as a whole, with its spaces also squeezed out so that
"OPT OUT", "opt-out", "OptOut" and "Stop all" all match. A keyword inside a sentence is not a keyword:
"Cancel my appointment" and "can you stop by tomorrow?" are ordinary messages.

- ``"stop"``: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPT OUT — the FCC's per-se
  revocation words plus the carriers' usual list — and ARRET and REMOVE (AWS's list). A polite
  "please" before or after ("Stop please") does not hide it.
- ``"start"``: START and UNSTOP only. RingCentral also documents SUBSCRIBE, RESUME and CONTINUE as
  opt-in words for its own platform-level block; rcinbox deliberately does *not* lift an opt-out on
  them: a missed opt-in costs one auto-reply, a wrong one texts somebody who said STOP ("Continue"
  and "Resume" are plausible words in a conversation). Those texts stay suppressed as "opted-out".
- ``"help"``: HELP and INFO (reserved words: a vacation reply never fires on them).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Keyword = Literal["stop", "start", "help"]

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "ARRET", "REMOVE"}
)
START_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
_POLITE = "PLEASE"
_NON_ALNUM = re.compile(r"[^0-9A-Z]+")


def normalise(text: str) -> str:
    """Upper case, accents dropped, punctuation/whitespace runs as single spaces, trimmed."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return _NON_ALNUM.sub(" ", plain).strip()


def classify_keyword(text: str) -> Keyword | None:
    """``"stop"``, ``"start"`` or ``"help"`` when the whole message is such a keyword, else ``None``."""
    words = normalise(text).split()
    if len(words) > 1 and _POLITE in (words[0], words[-1]):
        words = words[1:] if words[0] == _POLITE else words[:-1]
    key = "".join(words)
    if key in STOP_WORDS:
        return "stop"
    if key in START_WORDS:
        return "start"
    if key in HELP_WORDS:
        return "help"
    return None
