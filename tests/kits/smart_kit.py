"""Smart replies in tests: a fake classifier (the seam is ``Tuning.classifier`` /
:class:`rcinbox.service.understanding.Understanding`'s factory) and, until the rules engineer's
smart :func:`~rcinbox.rules.decide.decide` is on main, :func:`stand_in_decide`: the real decide()
plus the smart-reply contract the service is built against, so the service's side (facts gathered,
decision recorded, escalation queued and sent) is tested end to end now. Tests install it with
``monkeypatch.setattr(rcinbox.service.pipeline, "decide", stand_in_decide)`` (:func:`smart_decide`).

The contract assumed (issue 8, rcinbox.intent): a fuzzy opt-out at or above OPT_OUT_CERTAIN →
action ``opt-out``; between OPT_OUT_REVIEW and it → suppressed ``opt-out-review``; the chosen
intent's reply (``[smart.replies]``) with its own handle (``<intent>:<digest>``; "" → suppressed
``no-reply-for-intent``); an urgent text from a contact → an :class:`Escalation` to
``smart.escalate.to``, once per sender per window (``facts.escalated_at``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from pathlib import Path

import pytest

import rcinbox.service.pipeline
from rcinbox.intent import OPT_OUT_CERTAIN, OPT_OUT_REVIEW, Backend, Classification, Intent
from rcinbox.rules.config import Rules
from rcinbox.rules.decide import Decision, Escalation, Facts, decide, handle_for
from rcinbox.rules.optout import classify_keyword

# what the fake classifier answers: the first phrase found in the lowercased text wins
PHRASES: Mapping[str, tuple[Intent, float]] = {
    "pls stop texting": ("opt_out", 0.95),
    "take me off your list": ("opt_out", 0.92),
    "maybe stop these": ("opt_out", 0.6),
    "urgent": ("urgent", 0.9),
    "meeting": ("appointment", 0.88),
    "thanks": ("thanks", 0.97),
}


class FakeClassifier:
    """Answers from :data:`PHRASES` (else ``other``); counts its calls."""

    def __init__(
        self, backend: Backend = "builtin", phrases: Mapping[str, tuple[Intent, float]] = PHRASES
    ) -> None:
        self.backend: Backend = backend
        self.phrases = phrases
        self.calls: list[str] = []

    def classify(self, text: str) -> Classification:
        self.calls.append(text)
        lowered = text.lower()
        for phrase, (intent, confidence) in self.phrases.items():
            if phrase in lowered:
                return Classification(intent, confidence, self.backend)
        return Classification("other", 0.3, self.backend)


def fake_factory(backend: Backend, model: Path | None) -> FakeClassifier:
    return FakeClassifier(backend)


def smart_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decide with :func:`stand_in_decide` in the pipeline (see the module docstring)."""
    monkeypatch.setattr(rcinbox.service.pipeline, "decide", stand_in_decide)


def intent_handle(intent: str, rules: Rules) -> str:
    text = rules.smart.replies.get(intent, "")  # type: ignore[call-overload]
    return f"{intent}:{hashlib.sha256((handle_for(rules.vacation) + text).encode()).hexdigest()[:16]}"


def stand_in_decide(facts: Facts, rules: Rules) -> Decision:
    c = facts.classification
    smart = rules.smart
    fields = (
        {}
        if c is None
        else {"intent": c.chosen(smart.min_confidence), "confidence": c.confidence, "backend": c.backend}
    )
    if c is not None and c.intent == "opt_out" and classify_keyword(facts.message.text) is None:
        if c.confidence >= OPT_OUT_CERTAIN:
            return Decision("opt-out", "opt-out", handle=handle_for(rules.vacation), **fields)  # type: ignore[arg-type]
        if c.confidence >= OPT_OUT_REVIEW:
            plain = decide(facts, rules)
            return (
                dataclasses.replace(plain, action="suppress", reason="opt-out-review", reply_text=None)
                if plain.action == "reply"
                else plain
            )
    intent = fields.get("intent")
    if not smart.enabled or intent not in smart.replies:
        return dataclasses.replace(decide(facts, rules), **fields)  # type: ignore[arg-type]
    handle = intent_handle(str(intent), rules)
    text = smart.replies[intent]  # type: ignore[index]
    own = dataclasses.replace(facts, last_reply_at=facts.last_replies.get(handle))
    vacation = dataclasses.replace(rules.vacation, message=text or rules.vacation.message)
    decision = dataclasses.replace(
        decide(own, dataclasses.replace(rules, vacation=vacation)), handle=handle, **fields
    )  # type: ignore[arg-type]
    if decision.action == "reply" and intent == "urgent" and smart.escalate_to and facts.is_contact:
        start = rules.vacation.start
        if facts.escalated_at is None or (start is not None and facts.escalated_at < start):
            name = facts.contact_name or "a contact"
            sender = facts.message.sender.phone_number
            escalation = Escalation(
                f"rcinbox: urgent text from {name} ({sender}) while you are away.",
                facts.message.receiving_number or "",
                smart.escalate_to,
                f"escalation:{handle_for(rules.vacation)}",
            )
            decision = dataclasses.replace(decision, escalation=escalation)
    if decision.action == "reply" and text == "":
        decision = dataclasses.replace(
            decision,
            action="suppress",
            reason="no-reply-for-intent",
            reply_text=None,
            reply_from=None,
            reply_to=None,
        )
    if decision.action == "reply":
        decision = dataclasses.replace(decision, reply_kind=str(intent))
    return decision
