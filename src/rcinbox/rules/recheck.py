"""The rules that hold twice: when a text is decided, and again right before its queued reply is sent.

A reply can wait in the outbox (a retry can push it hours past its decision), and meanwhile the
rules file may change or the counterpart may say STOP. The checks below are the one definition of
each such rule; :func:`rcinbox.rules.decide.decide` asks them about the inbound message, and
:func:`recheck` asks them about the queued reply, for the outbox. Pure: no network, no database.

Shared checks (each answers with a :func:`~rcinbox.rules.decide.decide` reason, or ``None``):

- :func:`consent`: the counterpart opted out → ``"opted-out"``;
- :func:`too_old`: older than ``safety.max_age`` (the inbound text's age, or the reply's time in the
  queue);
- :func:`window`: vacation disabled → ``"vacation-off"``; ``now`` outside ``start <= now < end`` →
  ``"outside-window"``;
- :func:`audience`: blocklisted → ``"blocklisted"`` (any audience); audience ``"contacts"`` and the
  number is neither in the address book nor allowlisted (:func:`counts_as_contact`) →
  ``"not-a-contact"``. The allowlist is a rule: the address book knows nothing of it.

:func:`recheck` fails a queued reply, in this order, with the reason first in the text the outbox
records: ``opted-out``; ``expired`` (queued longer than ``safety.max_age``); ``vacation-off``;
``outside-window``; ``blocklisted``. It does not ask the address book again: a reply decided for a
contact is not withdrawn because the book changed.

:func:`recheck_escalation` does the same for a queued escalation (an SMS to
``smart.escalate.to`` about an urgent text, :class:`~rcinbox.rules.decide.Escalation`), in this
order: ``opted-out`` (the escalation number itself opted out); ``expired``; ``smart-off``
(``smart.enabled`` switched off); ``escalation-changed`` (``smart.escalate.to`` removed or now
another number: the old one is not told); ``vacation-off``; ``outside-window``. The blocklist needs
no check: the rules file refuses an ``escalate.to`` on it, so a number blocklisted since is no longer
``escalate.to`` (``escalation-changed``). It does not ask about the urgent text's sender: the
escalation is not a text to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rcinbox.numbers import same_key
from rcinbox.rules.config import Rules

RECHECKED = ("opted-out", "expired", "vacation-off", "outside-window", "blocklisted")
ESCALATION_RECHECKED = (
    "opted-out",
    "expired",
    "smart-off",
    "escalation-changed",
    "vacation-off",
    "outside-window",
)
_AFTERWARDS = {
    "opted-out": "the counterpart opted out before the reply went out",
    "vacation-off": "the vacation was switched off before the reply went out",
    "outside-window": "the vacation window closed before the reply went out",
    "blocklisted": "the counterpart was blocklisted before the reply went out",
}
_ESCALATION_AFTERWARDS = {
    "opted-out": "the escalation number opted out before the escalation went out",
    "smart-off": "smart replies were switched off before the escalation went out",
    "escalation-changed": "smart.escalate.to no longer names this number",
    "vacation-off": "the vacation was switched off before the escalation went out",
    "outside-window": "the vacation window closed before the escalation went out",
}


@dataclass(frozen=True)
class QueuedReply:
    """What the outbox knows about a queued reply right before it sends it."""

    to_number: str  # the counterpart
    waited: timedelta  # since it was queued
    now: datetime  # aware
    opted_out: bool  # the counterpart has opted out by now


@dataclass(frozen=True)
class QueuedEscalation:
    """What the outbox knows about a queued escalation right before it sends it."""

    to_number: str  # the escalation number it was queued for
    waited: timedelta  # since it was queued
    now: datetime  # aware
    opted_out: bool  # the escalation number has opted out by now


def consent(opted_out: bool) -> str | None:
    return "opted-out" if opted_out else None


def too_old(age: timedelta | None, rules: Rules) -> bool:
    """Older than ``safety.max_age`` (``None``: the age is unknown, so not too old)."""
    return age is not None and age > rules.max_age


def window(rules: Rules, now: datetime) -> str | None:
    if not rules.vacation.enabled:
        return "vacation-off"
    return None if rules.vacation.active(now) else "outside-window"


def blocklisted(number: str, rules: Rules) -> bool:
    return same_key(number) in rules.contacts.blocklist


def counts_as_contact(number: str, in_address_book: bool, rules: Rules) -> bool:
    """In the address book, or on the rules' allowlist (which counts as the address book)."""
    return in_address_book or same_key(number) in rules.contacts.allowlist


def audience(number: str, in_address_book: bool, rules: Rules) -> str | None:
    if blocklisted(number, rules):
        return "blocklisted"
    if rules.vacation.audience == "contacts" and not counts_as_contact(number, in_address_book, rules):
        return "not-a-contact"
    return None


def recheck(reply: QueuedReply, rules: Rules | None) -> str | None:
    """Why the queued ``reply`` must not be sent now (``None``: send it); ``rules`` ``None``: only
    the counterpart's consent is checked."""
    reason = consent(reply.opted_out)  # first: the clearest reason
    if reason is None and rules is not None:
        if too_old(reply.waited, rules):
            return f"expired: queued {_minutes(reply.waited)} ago, longer than safety.max_age"
        reason = window(rules, reply.now) or ("blocklisted" if blocklisted(reply.to_number, rules) else None)
    return None if reason is None else f"{reason}: {_AFTERWARDS[reason]}"


def recheck_escalation(queued: QueuedEscalation, rules: Rules | None) -> str | None:
    """Why the queued escalation must not be sent now (``None``: send it); ``rules`` ``None``: only
    the escalation number's consent is checked."""
    reason = consent(queued.opted_out)
    if reason is None and rules is not None:
        if too_old(queued.waited, rules):
            return f"expired: queued {_minutes(queued.waited)} ago, longer than safety.max_age"
        reason = _escalation_rules(queued.to_number, rules) or window(rules, queued.now)
    return None if reason is None else f"{reason}: {_ESCALATION_AFTERWARDS[reason]}"


def _escalation_rules(to_number: str, rules: Rules) -> str | None:
    if not rules.smart.enabled:
        return "smart-off"
    to = rules.smart.escalate_to
    return None if to is not None and same_key(to) == same_key(to_number) else "escalation-changed"


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)} min"
