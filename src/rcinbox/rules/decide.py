"""The auto-reply decision: a pure function of the facts about one inbound message and the rules.

:func:`decide` checks, in this order, and the first rule that applies wins:

1. **Keywords** (whole message, :mod:`rcinbox.rules.optout`): STOP & co. → action ``"opt-out"``
   (the pipeline records it; no reply, rcinbox sends no confirmation of its own); START/UNSTOP →
   ``"opt-in"`` (no reply); HELP/INFO → suppressed ``"help-keyword"``. First, so that an opt-out is
   recorded whoever sends it and whatever else would suppress the message.
2. **Sender safety**: one of the owner's own numbers → ``"own-number"``; a company number →
   ``"company-number"``; a short code → ``"short-code"``; an alphanumeric sender id →
   ``"alphanumeric-sender"``; an invalid or anonymous address → ``"invalid-sender"``.
3. **Group message**: more than one recipient → ``"group-message"``; no receiving number to answer
   from → ``"no-receiving-number"``.
4. **Opted out**: the sender said STOP earlier → ``"opted-out"``.
5. **Automation**: the text looks automated (:mod:`rcinbox.rules.robots`) → ``"automated-sender"``;
   the text was older than ``rules.max_age`` when it reached rcinbox (``facts.age``: e.g. caught up
   by message-sync after a restart) → ``"too-old"`` (archived, not answered hours later); found by
   the first catch-up ever and sent before rcinbox first started → ``"before-first-start"``.
6. **Window**: vacation disabled → ``"vacation-off"``; ``now`` outside ``start <= now < end`` →
   ``"outside-window"`` (instants compare in UTC; the sender's own time zone does not matter).
7. **Audience**: blocklisted → ``"blocklisted"`` (any audience); audience ``"contacts"`` and the sender
   is neither an address-book contact (``facts.is_contact``) nor allowlisted → ``"not-a-contact"``.

Checks 4 to 7 are defined once, in :mod:`rcinbox.rules.recheck`, which the outbox asks again right
before a queued reply goes out.
8. **Repeat**: this very message was already answered → ``"already-replied"``; the last reply to this
   sender with this handle is younger than ``repeat_after`` (or, for ``"once"``, falls inside the
   current window) → ``"already-replied"``. The handle (:func:`handle_for`) is derived from the
   vacation message and window, like Sieve's ``:handle`` per response: editing the message or
   moving the window starts repeat tracking afresh (Gmail does the same), while the loop fuse
   still counts every automated text whatever its handle.
9. **Loop fuse**: automated texts to this counterpart within ``rules.loop_fuse.per`` have reached
   ``rules.loop_fuse.count`` → ``"loop-fuse"``, whatever the rules above allowed.
10. **Sender credential**: nothing rcinbox holds may send for the extension that received the
    message (``facts.can_send`` false: another user's extension without a sender JWT — the platform
    lets no one send for another user) → ``"no-sender-credential"``; last, so every other reason
    still wins and this one only says "would have replied".
11. **Reply**: the message rendered for the sender (first name from the address book, else the first
    word of ``from.name``; a name holding U+FFFD, the mark of a character that arrived broken, or a
    character no text can carry is not used: "Hi,"), fitted to GSM-7; never containing the inbound
    text; from the number that received the message, to the sender → action ``"reply"``, reason
    ``"replied"``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal

from rcinbox.events import InboundMessage
from rcinbox.intent import Backend, Classification, Intent
from rcinbox.numbers import same_key
from rcinbox.rules.config import Rules, Vacation
from rcinbox.rules.optout import classify_keyword
from rcinbox.rules.recheck import audience, consent, too_old, window
from rcinbox.rules.reply import compose
from rcinbox.rules.robots import looks_automated, sender_kind

Action = Literal["reply", "suppress", "opt-out", "opt-in"]
HANDLE = "vacation"
_BROKEN = re.compile("[\x00\ud800-\udfff\ufffd]")  # replaced, lone surrogate, NUL
_KIND_REASONS = {
    "short-code": "short-code",
    "alphanumeric": "alphanumeric-sender",
    "invalid": "invalid-sender",
}


@dataclass(frozen=True)
class Facts:
    """Everything :func:`decide` needs, gathered by the pipeline (numbers in E.164)."""

    message: InboundMessage
    now: datetime  # aware
    owner_numbers: frozenset[str]
    company_numbers: frozenset[str]
    contact_name: str | None  # first name from the address book
    is_contact: bool  # in the address book (the allowlist is a rule: decide() applies it)
    opted_out: bool
    last_reply_at: datetime | None  # last automated reply to this sender with handle_for(vacation)
    replied_to_message: bool
    automated_count_24h: int  # automated texts to this sender within rules.loop_fuse.per
    contact_last_name: str | None = None
    can_send: bool = True  # a credential that may send for the receiving extension is configured
    age: timedelta | None = None  # how old the text was when it reached rcinbox (None: unknown)
    before_first_start: bool = False  # sent before rcinbox ever ran (found by the first catch-up)
    classification: Classification | None = None  # what the text asks (None: not classified)
    # last automated reply to this sender per handle (the vacation's and each intent's); replaces
    # last_reply_at once the pipeline fills it
    last_replies: Mapping[str, datetime] = field(default_factory=lambda: MappingProxyType({}))
    escalated_at: datetime | None = None  # last escalation about this sender


@dataclass(frozen=True)
class Escalation:
    """A short SMS to ``rules.smart.escalate_to`` naming the sender of an urgent text (never quoting it)."""

    text: str
    from_number: str  # the owner's number that received the urgent text
    to_number: str
    handle: str  # repeat tracking: once per sender per window


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    reply_text: str | None = None
    reply_from: str | None = None
    reply_to: str | None = None
    handle: str = HANDLE
    intent: Intent | None = None  # the chosen intent (smart replies), when the text was classified
    confidence: float | None = None
    backend: Backend | None = None
    reply_kind: str = "vacation"  # which reply was chosen: "vacation" or an intent's
    escalation: Escalation | None = None


def handle_for(vacation: Vacation) -> str:
    """The repeat-tracking handle of this vacation response: ``vacation:`` + a digest of the
    message and the window (a new message or window is a new response)."""
    parts = (vacation.message, _iso(vacation.start), _iso(vacation.end))
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]
    return f"{HANDLE}:{digest}"


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def decide(facts: Facts, rules: Rules) -> Decision:
    """What to do with one inbound message (see the module docstring for the order)."""
    return dataclasses.replace(_decide(facts, rules), handle=handle_for(rules.vacation))


def _decide(facts: Facts, rules: Rules) -> Decision:
    checks = (
        _keyword,
        _sender,
        _recipients,
        _consent,
        _automation,
        _late,
        _window,
        _audience,
        _repeat,
        _fuse,
        _credential,
    )
    for check in checks:
        decision = check(facts, rules)
        if decision is not None:
            return decision
    return _reply(facts, rules)


def _suppress(reason: str) -> Decision:
    return Decision("suppress", reason)


def _suppress_for(reason: str | None) -> Decision | None:
    return None if reason is None else _suppress(reason)


def _keyword(facts: Facts, rules: Rules) -> Decision | None:
    keyword = classify_keyword(facts.message.text)
    if keyword == "stop":
        return Decision("opt-out", "opt-out")
    if keyword == "start":
        return Decision("opt-in", "opt-in")
    return _suppress("help-keyword") if keyword == "help" else None


def _sender(facts: Facts, rules: Rules) -> Decision | None:
    number = facts.message.sender.phone_number
    key = same_key(number)
    if key in {same_key(n) for n in facts.owner_numbers}:
        return _suppress("own-number")
    if key in {same_key(n) for n in facts.company_numbers}:
        return _suppress("company-number")
    kind = sender_kind(number)
    return _suppress(_KIND_REASONS[kind]) if kind != "ok" else None


def _recipients(facts: Facts, rules: Rules) -> Decision | None:
    if len(facts.message.recipients) > 1:
        return _suppress("group-message")
    return _suppress("no-receiving-number") if facts.message.receiving_number is None else None


def _consent(facts: Facts, rules: Rules) -> Decision | None:
    return _suppress_for(consent(facts.opted_out))


def _automation(facts: Facts, rules: Rules) -> Decision | None:
    return _suppress("automated-sender") if looks_automated(facts.message.text) else None


def _late(facts: Facts, rules: Rules) -> Decision | None:
    if facts.before_first_start:
        return _suppress("before-first-start")
    return _suppress("too-old") if too_old(facts.age, rules) else None


def _window(facts: Facts, rules: Rules) -> Decision | None:
    return _suppress_for(window(rules, facts.now))


def _audience(facts: Facts, rules: Rules) -> Decision | None:
    return _suppress_for(audience(facts.message.sender.phone_number, facts.is_contact, rules))


def _repeat(facts: Facts, rules: Rules) -> Decision | None:
    if facts.replied_to_message:
        return _suppress("already-replied")
    last, vacation = facts.last_reply_at, rules.vacation
    if last is None:
        return None
    if vacation.repeat_after is None:
        recent = vacation.start is not None and last >= vacation.start
    else:
        recent = facts.now - last < vacation.repeat_after
    return _suppress("already-replied") if recent else None


def _fuse(facts: Facts, rules: Rules) -> Decision | None:
    return _suppress("loop-fuse") if facts.automated_count_24h >= rules.loop_fuse.count else None


def _credential(facts: Facts, rules: Rules) -> Decision | None:
    return None if facts.can_send else _suppress("no-sender-credential")


def _reply(facts: Facts, rules: Rules) -> Decision:
    sender = facts.message.sender
    contact = _intact(facts.contact_name)
    first = contact or _first_word(_intact(sender.name))
    last = _intact(facts.contact_last_name) if contact else None
    text = compose(rules, first, last)
    return Decision(
        "reply",
        "replied",
        reply_text=text,
        reply_from=facts.message.receiving_number,
        reply_to=sender.phone_number,
    )


def _intact(name: str | None) -> str | None:
    """``name`` unless a character of it arrived broken (U+FFFD, a lone surrogate, NUL)."""
    return None if name is None or _BROKEN.search(name) else name


def _first_word(name: str | None) -> str | None:
    """The first word of ``from.name`` when it looks like a given name ("Dana Lee" → "Dana")."""
    if not name:
        return None
    words = name.split()
    if not words:
        return None
    word = words[0]
    return word if word.replace("-", "").replace("'", "").isalpha() else None
