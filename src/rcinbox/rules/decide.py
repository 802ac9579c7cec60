"""The auto-reply decision: a pure function of the facts about one inbound message and the rules.

:func:`decide` checks, in this order, and the first rule that applies wins:

1. **Keywords** (whole message, :mod:`rcinbox.rules.optout`): STOP & co. → action ``"opt-out"``
   (the pipeline records it; no reply, rcinbox sends no confirmation of its own); START/UNSTOP →
   ``"opt-in"`` (no reply); HELP/INFO → suppressed ``"help-keyword"``. First, so that an opt-out is
   recorded whoever sends it and whatever else would suppress the message.
2. **Sender safety**: one of the owner's own numbers → ``"own-number"``; a company number →
   ``"company-number"``; a short code → ``"short-code"``; an alphanumeric sender id →
   ``"alphanumeric-sender"``; an invalid or anonymous address → ``"invalid-sender"``.
3. **Opt-out phrase** (``facts.classification``: intent ``opt_out`` with a confidence of at least
   :data:`~rcinbox.intent.OPT_OUT_CERTAIN`, e.g. "pls stop texting me") → action ``"opt-out"``,
   reason ``"opt-out-phrase"``: recorded like STOP, before every other rule about the message (a
   group text, a sender already opted out). Unlike the exact keywords, only from a person: not
   from the senders of rule 2 and not in a text that looks automated (a marketing text's "Reply
   STOP to opt out" is its own footer, not a request).
4. **Group message**: more than one recipient → ``"group-message"``; no receiving number to answer
   from → ``"no-receiving-number"``.
5. **Opted out**: the sender said STOP earlier → ``"opted-out"``.
6. **Automation**: the text looks automated (:mod:`rcinbox.rules.robots`) → ``"automated-sender"``.
7. **Possible opt-out**: intent ``opt_out`` with a confidence from :data:`~rcinbox.intent.OPT_OUT_REVIEW`
   up to (not including) ``OPT_OUT_CERTAIN`` → ``"possible-opt-out"``: recorded for a human, no
   opt-out recorded, this message gets no automated reply. Here because a human needs to see it
   only about someone rcinbox could text (a person, one to one, not opted out already, not a
   robot: "Reply STOP to unsubscribe" is the robot's own footer), and before every rule of this
   message's reply (its age, the window, the audience, …): whether that person asked to stop
   matters beyond this message.
8. **Late**: the text was older than ``rules.max_age`` when it reached rcinbox (``facts.age``: e.g.
   caught up by message-sync after a restart) → ``"too-old"`` (archived, not answered hours later);
   found by the first catch-up ever and sent before rcinbox first started → ``"before-first-start"``.
9. **Window**: vacation disabled → ``"vacation-off"``; ``now`` outside ``start <= now < end`` →
   ``"outside-window"`` (instants compare in UTC; the sender's own time zone does not matter).
10. **Audience**: blocklisted → ``"blocklisted"`` (any audience); audience ``"contacts"`` and the sender
    is neither an address-book contact (``facts.is_contact``) nor allowlisted → ``"not-a-contact"``.

Checks 5 and 8 to 10 are defined once, in :mod:`rcinbox.rules.recheck`, which the outbox asks again
right before a queued reply goes out. Checks 2 and 7 apply whether or not ``smart.enabled`` (an
opt-out must not depend on a feature switch), and only when the text was classified
(``facts.classification`` ``None``: exactly the rules without them).

**Escalation** (``Decision.escalation``) is decided once a text has passed checks 1 to 10: with
``smart.enabled``, ``smart.escalate_to`` set, the chosen intent ``urgent`` and a sender who is a
contact (address book or allowlist), a short SMS naming the sender (never quoting the text) goes
from the receiving number to ``escalate_to``, unless an escalation about this sender already went
out in the current window (``facts.escalated_at`` at or after ``vacation.start``), nothing may send
for the receiving extension (check 14), or ``escalate_to`` is the sender or one of the owner's
numbers. It does not depend on checks 11 to 13, which are about the reply to the sender: an urgent
text whose reply was already sent, that the loop fuse holds back or whose reply the owner set to
``""`` still tells the escalation number, once per sender per window.

11. **Reply choice** (:func:`rcinbox.rules.smart.choose`): with ``smart.enabled``, the intent chosen
    at ``smart.min_confidence`` whose reply is ``""`` in ``[smart.replies]`` → ``"no-reply-needed"``;
    an intent with a reply gets that reply, anything else the vacation message.
12. **Repeat**: this very message was already answered → ``"already-replied"``; the last reply to
    this sender from this extension with the chosen reply's handle (``facts.last_replies``: the
    pipeline reads them per extension and sender) is younger than
    ``repeat_after`` (or, for ``"once"``, falls inside the current window) → ``"already-replied"``.
    Each reply has its own handle (:mod:`rcinbox.rules.smart`), like Sieve's ``:handle`` per
    response, derived from its text and the window: editing it or moving the window starts repeat
    tracking afresh (Gmail does the same), and a sender who got the vacation message may still get
    the urgent reply once; the loop fuse still counts every automated text whatever its handle.
13. **Loop fuse**: automated texts to this counterpart within ``rules.loop_fuse.per`` have reached
    ``rules.loop_fuse.count`` → ``"loop-fuse"``, whatever the rules above allowed.
14. **Sender credential**: nothing rcinbox holds may send for the extension that received the
    message (``facts.can_send`` false: another user's extension without a sender JWT — the platform
    lets no one send for another user) → ``"no-sender-credential"``; last, so every other reason
    still wins and this one only says "would have replied".
15. **Reply**: the chosen reply rendered for the sender (first name from the address book, else the
    first word of ``from.name``; a name holding U+FFFD, the mark of a character that arrived broken,
    or a character no text can carry is not used: "Hi,"), fitted to GSM-7; never containing the
    inbound text; from the number that received the message, to the sender → action ``"reply"``,
    reason ``"replied"``.

When the text was classified, every decision (suppressions included) records the intent acted on
(``opt_out`` for checks 2 and 7, else the intent chosen at ``min_confidence``), the confidence, the
backend and ``reply_kind`` (``"vacation"`` or the intent whose reply was, or would have been, sent);
``handle`` is always the chosen reply's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal

from rcinbox.events import InboundMessage
from rcinbox.intent import Backend, Classification, Intent
from rcinbox.numbers import same_key
from rcinbox.rules.config import Rules
from rcinbox.rules.optout import classify_keyword
from rcinbox.rules.recheck import audience, consent, counts_as_contact, too_old, window
from rcinbox.rules.reply import compose
from rcinbox.rules.robots import looks_automated, sender_kind
from rcinbox.rules.smart import (
    HANDLE,
    Choice,
    acted_intent,
    choose,
    escalated_in_window,
    escalation_handle,
    escalation_text,
    handle_for,
    opt_out_level,
    recent,
)

__all__ = ["HANDLE", "Action", "Decision", "Escalation", "Facts", "decide", "handle_for"]

Action = Literal["reply", "suppress", "opt-out", "opt-in"]
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
    replied_to_message: bool
    automated_count_24h: int  # automated texts to this sender within rules.loop_fuse.per
    contact_last_name: str | None = None
    can_send: bool = True  # a credential that may send for the receiving extension is configured
    age: timedelta | None = None  # how old the text was when it reached rcinbox (None: unknown)
    before_first_start: bool = False  # sent before rcinbox ever ran (found by the first catch-up)
    classification: Classification | None = None  # what the text asks (None: not classified)
    # handle → when the last automated reply with that handle went to this sender (any handle the
    # store knows; decide() looks up the chosen reply's)
    last_replies: Mapping[str, datetime] = field(default_factory=lambda: MappingProxyType({}))
    escalated_at: datetime | None = None  # last escalation about this sender (any handle)


@dataclass(frozen=True)
class Escalation:
    """A short SMS to ``rules.smart.escalate_to`` naming the sender of an urgent text (never quoting it)."""

    text: str
    from_number: str  # the owner's number that received the urgent text
    to_number: str
    handle: str  # repeat tracking: once per sender per window
    about: str  # the sender of the urgent text


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    reply_text: str | None = None
    reply_from: str | None = None
    reply_to: str | None = None
    handle: str = HANDLE
    intent: Intent | None = None  # the intent acted on, when the text was classified
    confidence: float | None = None
    backend: Backend | None = None
    reply_kind: str = "vacation"  # which reply was (or would have been) chosen: "vacation" or an intent's
    escalation: Escalation | None = None  # also send this, whatever the action


def decide(facts: Facts, rules: Rules) -> Decision:
    """What to do with one inbound message (see the module docstring for the order)."""
    choice = choose(facts.classification, rules)
    decision = _gate(facts, rules) or _answer(facts, rules, choice)
    decision = dataclasses.replace(decision, handle=choice.handle, reply_kind=choice.kind)
    found = facts.classification
    if found is None:
        return decision
    return dataclasses.replace(
        decision, intent=acted_intent(found, rules), confidence=found.confidence, backend=found.backend
    )


def _gate(facts: Facts, rules: Rules) -> Decision | None:
    """Checks 1 to 10: whether this text may get any automated text at all."""
    checks = (
        _keyword,
        _sender,
        _opt_out_phrase,
        _recipients,
        _consent,
        _automation,
        _possible_opt_out,
        _late,
        _window,
        _audience,
    )
    for check in checks:
        decision = check(facts, rules)
        if decision is not None:
            return decision
    return None


def _answer(facts: Facts, rules: Rules, choice: Choice) -> Decision:
    """Checks 11 to 15 and the escalation, for a text that passed the gate."""
    escalation = _escalation(facts, rules, choice)
    decision = (
        _no_reply_needed(choice)
        or _repeat(facts, rules, choice)
        or _fuse(facts, rules)
        or _credential(facts, rules)
        or _reply(facts, rules, choice)
    )
    return dataclasses.replace(decision, escalation=escalation)


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


def _opt_out_phrase(facts: Facts, rules: Rules) -> Decision | None:
    certain = opt_out_level(facts.classification) == "certain"
    if not certain or looks_automated(facts.message.text):  # a robot's "Reply STOP to opt out"
        return None
    return Decision("opt-out", "opt-out-phrase")


def _possible_opt_out(facts: Facts, rules: Rules) -> Decision | None:
    return _suppress("possible-opt-out") if opt_out_level(facts.classification) == "review" else None


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


def _no_reply_needed(choice: Choice) -> Decision | None:
    return _suppress("no-reply-needed") if not choice.template.strip() and choice.kind != "vacation" else None


def _repeat(facts: Facts, rules: Rules, choice: Choice) -> Decision | None:
    if facts.replied_to_message:
        return _suppress("already-replied")
    last = facts.last_replies.get(choice.handle)
    return _suppress("already-replied") if recent(last, facts.now, rules.vacation) else None


def _fuse(facts: Facts, rules: Rules) -> Decision | None:
    return _suppress("loop-fuse") if facts.automated_count_24h >= rules.loop_fuse.count else None


def _credential(facts: Facts, rules: Rules) -> Decision | None:
    return None if facts.can_send else _suppress("no-sender-credential")


def _escalation(facts: Facts, rules: Rules, choice: Choice) -> Escalation | None:
    smart, sender, receiving = rules.smart, facts.message.sender.phone_number, facts.message.receiving_number
    to = smart.escalate_to
    if not smart.enabled or to is None or receiving is None or choice.intent != "urgent":
        return None
    if not counts_as_contact(sender, facts.is_contact, rules) or not facts.can_send:
        return None
    if same_key(to) in {same_key(n) for n in (sender, *facts.owner_numbers)}:
        return None
    if escalated_in_window(facts.escalated_at, rules.vacation):
        return None
    contact = _intact(facts.contact_name)
    names = (contact, _intact(facts.contact_last_name) if contact else None)
    name = " ".join(n for n in names if n) or None
    text = escalation_text(name, sender, receiving)
    return Escalation(text, receiving, to, escalation_handle(rules.vacation), sender)


def _reply(facts: Facts, rules: Rules, choice: Choice) -> Decision:
    sender = facts.message.sender
    contact = _intact(facts.contact_name)
    first = contact or _first_word(_intact(sender.name))
    last = _intact(facts.contact_last_name) if contact else None
    text = compose(rules, first, last, template=choice.template)
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
