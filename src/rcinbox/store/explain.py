"""A stored decision in words, for a person: "no reply: already answered 2 days ago".

:func:`explain` turns a :class:`~rcinbox.store.records.DecisionRecord` read from the archive (its
action, reason and the facts it was taken on, as :mod:`rcinbox.service.decision_record` stores
them) into one short sentence; times are told relative to ``now`` ("2 days ago", "in 3 hours").
:data:`SENTENCES` covers every reason :func:`rcinbox.rules.decide.decide` gives (a test reads the
decider's source and checks); a reason this code does not know (an archive written by a newer
rcinbox) reads as ``"<action>: <reason>"``. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from rcinbox.store.records import DecisionRecord

Sentence = Callable[[DecisionRecord, datetime], str]

_INTENTS = {
    "urgent": "an urgent text",
    "appointment": "about an appointment",
    "question": "a question",
    "thanks": "a thank-you",
    "opt_out": "a request to stop",
    "help": "a request for help",
    "other": "a text",
}


def explain(decision: DecisionRecord, now: datetime) -> str:
    """``decision`` in one sentence, its times relative to ``now`` (aware)."""
    sentence = SENTENCES.get(decision.reason)
    if sentence is None:
        return f"{decision.action}: {decision.reason}"
    return sentence(decision, now)


def relative(at: datetime, now: datetime) -> str:
    """``at`` as seen from ``now``: "just now", "5 minutes ago", "in 2 days"."""
    span = now - at
    future = span < timedelta(0)
    seconds = abs(span.total_seconds())
    if seconds < 60:
        return "just now"
    amount = _amount(timedelta(seconds=seconds))
    return f"in {amount}" if future else f"{amount} ago"


def duration(span: timedelta) -> str:
    """A span in its largest whole unit: "45 seconds", "3 hours", "2 days"."""
    if span.total_seconds() < 60:
        return _plural(int(span.total_seconds()), "second")
    return _amount(span)


def _amount(span: timedelta) -> str:
    seconds = span.total_seconds()
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= size:
            return _plural(int(seconds // size), unit)
    return _plural(int(seconds), "second")


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _seconds(value: Any) -> timedelta | None:
    return timedelta(seconds=value) if isinstance(value, int | float) else None


def _percent(value: float | None) -> str:
    return "" if value is None else f" ({round(value * 100)}% sure)"


def _fixed(text: str) -> Sentence:
    return lambda decision, now: text


def _replied(decision: DecisionRecord, now: datetime) -> str:
    kind = decision.reply_kind
    if kind is None or kind == "vacation":
        return "replied with the vacation message"
    return f"replied with the {kind} reply"


def _opt_out_phrase(decision: DecisionRecord, now: datetime) -> str:
    return f"opted out: asked to stop in their own words{_percent(decision.confidence)}"


def _possible_opt_out(decision: DecisionRecord, now: datetime) -> str:
    return f"no reply: may be asking to stop{_percent(decision.confidence)}; worth a look"


def _too_old(decision: DecisionRecord, now: datetime) -> str:
    age, limit = _seconds(decision.facts.get("age_s")), _seconds(decision.facts.get("max_age_s"))
    if age is None or limit is None:
        return "no reply: it was too old when it arrived"
    return f"no reply: it was {duration(age)} old when it arrived (the limit is {duration(limit)})"


def _outside_window(decision: DecisionRecord, now: datetime) -> str:
    vacation: Mapping[str, Any] = decision.facts.get("vacation") or {}
    start, end = _when(vacation.get("start")), _when(vacation.get("end"))
    decided = decision.decided_at or _when(decision.facts.get("now"))
    if start is not None and decided is not None and decided < start:
        return f"no reply: before the vacation window (it starts {relative(start, now)})"
    if end is not None:
        return f"no reply: after the vacation window (it ended {relative(end, now)})"
    return "no reply: outside the vacation window"


def _no_reply_needed(decision: DecisionRecord, now: datetime) -> str:
    what = _INTENTS.get(decision.intent or "", "this kind of text")
    return f"no reply: none needed for {what}"


def _already_replied(decision: DecisionRecord, now: datetime) -> str:
    if decision.facts.get("replied_to_message"):
        return "no reply: this text was already answered"
    replies: Mapping[str, Any] = decision.facts.get("last_replies") or {}
    last = _when(replies.get(decision.handle))
    if last is None:
        return "no reply: already answered"
    return f"no reply: already answered {relative(last, now)}"


def _loop_fuse(decision: DecisionRecord, now: datetime) -> str:
    fuse: Mapping[str, Any] = decision.facts.get("loop_fuse") or {}
    count, per = decision.facts.get("automated_count"), _seconds(fuse.get("per_s"))
    if not isinstance(count, int) or per is None:
        return "no reply: too many automated texts to them lately (the loop fuse)"
    return f"no reply: {_plural(count, 'automated text')} to them within {duration(per)} (the loop fuse)"


SENTENCES: dict[str, Sentence] = {
    "replied": _replied,
    "opt-out": _fixed("opted out: texted a stop keyword"),
    "opt-out-phrase": _opt_out_phrase,
    "opt-in": _fixed("opted back in: texted START"),
    "help-keyword": _fixed("no reply: asked for help (HELP/INFO)"),
    "own-number": _fixed("no reply: sent from one of your own numbers"),
    "company-number": _fixed("no reply: sent from a number of your company"),
    "short-code": _fixed("no reply: sent from a short code (an automated service)"),
    "alphanumeric-sender": _fixed("no reply: the sender is a name, not a number"),
    "invalid-sender": _fixed("no reply: the sender's number is hidden or invalid"),
    "group-message": _fixed("no reply: a group text"),
    "no-receiving-number": _fixed("no reply: no number of yours to answer from"),
    "opted-out": _fixed("no reply: they had opted out"),
    "automated-sender": _fixed("no reply: the text looks automated"),
    "possible-opt-out": _possible_opt_out,
    "too-old": _too_old,
    "before-first-start": _fixed("no reply: sent before rcinbox first started"),
    "vacation-off": _fixed("no reply: the vacation auto-reply was off"),
    "outside-window": _outside_window,
    "blocklisted": _fixed("no reply: the sender is on your blocklist"),
    "not-a-contact": _fixed("no reply: not in your contacts (replies go to contacts only)"),
    "no-reply-needed": _no_reply_needed,
    "already-replied": _already_replied,
    "loop-fuse": _loop_fuse,
    "no-sender-credential": _fixed("no reply: nothing may send for this extension (it would have replied)"),
}
