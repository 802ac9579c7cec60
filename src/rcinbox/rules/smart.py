"""Smart replies in the decision: what a classification means for the decision (:func:`acted_intent`,
the opt-out thresholds), which reply a text gets (:func:`choose`), its repeat-tracking handle, and
the escalation SMS about an urgent text (:func:`escalation_text`). Pure, like the rest of the rules.

Handles (repeat tracking per response, like Sieve's ``:handle``): the vacation message keeps
``vacation:<digest of the message and the window>``; an intent's reply is
``<intent>:<digest of its template and the window>`` (``urgent:…``): editing a reply or moving the
window starts its repeat tracking afresh. The escalation's is ``escalation:<digest of the window>``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from rcinbox.intent import OPT_OUT_CERTAIN, OPT_OUT_REVIEW, Classification, Intent
from rcinbox.rules.config import Rules, Vacation
from rcinbox.rules.reply import fold_accents
from rcinbox.rules.sms import GSM7_SINGLE, encoding, units

HANDLE = "vacation"
ESCALATION = "escalation"
_ESCALATION_TEXT = "rcinbox: urgent text from {who} to {to}. Not quoted here; please contact them."


@dataclass(frozen=True)
class Choice:
    """The reply a text gets: ``kind`` ``"vacation"`` or the intent whose reply it is; ``template``
    ``""`` means the owner wants no reply for that intent."""

    kind: str
    template: str
    handle: str
    intent: Intent | None  # the chosen intent (None: not classified)


def opt_out_level(classification: Classification | None) -> str | None:
    """``"certain"`` (an opt-out), ``"review"`` (borderline, for a human) or ``None``."""
    if classification is None or classification.intent != "opt_out":
        return None
    if classification.confidence >= OPT_OUT_CERTAIN:
        return "certain"
    return "review" if classification.confidence >= OPT_OUT_REVIEW else None


def acted_intent(classification: Classification, rules: Rules) -> Intent:
    """The intent the decision acted on: ``opt_out`` when the opt-out thresholds applied (they do
    not depend on ``min_confidence``), else the intent chosen at ``smart.min_confidence``."""
    if opt_out_level(classification) is not None:
        return "opt_out"
    return classification.chosen(rules.smart.min_confidence)


def handle_for(vacation: Vacation) -> str:
    """The repeat-tracking handle of this vacation response: ``vacation:`` + a digest of the
    message and the window (a new message or window is a new response)."""
    return f"{HANDLE}:{_digest(vacation.message, vacation)}"


def reply_handle(intent: Intent, template: str, vacation: Vacation) -> str:
    """The handle of an intent's reply: ``<intent>:`` + a digest of its template and the window."""
    return f"{intent}:{_digest(template, vacation)}"


def escalation_handle(vacation: Vacation) -> str:
    """The escalation's handle: one per window."""
    return f"{ESCALATION}:{_digest(ESCALATION, vacation)}"


def choose(classification: Classification | None, rules: Rules) -> Choice:
    """The reply for a text: the intent's configured reply when smart replies are on and the intent
    is chosen at ``min_confidence``; else (off, not classified, ``other``, not configured, too
    unsure) the vacation message."""
    intent = None if classification is None else acted_intent(classification, rules)
    template = rules.smart.replies.get(intent) if intent is not None and rules.smart.enabled else None
    if intent is None or template is None:
        return Choice("vacation", rules.vacation.message, handle_for(rules.vacation), intent)
    return Choice(intent, template, reply_handle(intent, template, rules.vacation), intent)


def recent(last: datetime | None, now: datetime, vacation: Vacation) -> bool:
    """``last`` (an automated reply with one handle) still holds back the next one: younger than
    ``repeat_after``, or, for ``"once"``, inside the current window."""
    if last is None:
        return False
    if vacation.repeat_after is None:
        return vacation.start is not None and last >= vacation.start
    return now - last < vacation.repeat_after


def escalated_in_window(escalated_at: datetime | None, vacation: Vacation) -> bool:
    return escalated_at is not None and vacation.start is not None and escalated_at >= vacation.start


def escalation_text(name: str | None, number: str, receiving: str) -> str:
    """The escalation SMS: names the sender (address-book name, folded to GSM-7 and shortened to fit,
    and the number), never the text; GSM-7, one segment."""
    if name is not None:
        name = " ".join(fold_accents(name).split())
        if encoding(name) != "GSM-7":
            name = None
    while name:
        text = _ESCALATION_TEXT.format(who=f"{name} ({number})", to=receiving)
        if units(text) <= GSM7_SINGLE:
            return text
        name = name[:-1].rstrip()
    return _ESCALATION_TEXT.format(who=number, to=receiving)


def _digest(text: str, vacation: Vacation) -> str:
    parts = (text, _iso(vacation.start), _iso(vacation.end))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""
