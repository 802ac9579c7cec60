"""The decision record: what the pipeline stores of a decision (:meth:`Store.conclude
<rcinbox.store.Store.conclude>`): the action and reason, the reply, the intent acted on with its
confidence and backend, an escalation, and the facts and rule settings it was taken on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rcinbox.rules.config import Rules
from rcinbox.rules.decide import Decision, Facts
from rcinbox.rules.optout import classify_keyword
from rcinbox.rules.recheck import counts_as_contact
from rcinbox.store import DecisionRecord, EscalationRecord


def decision_record(decision: Decision, facts: Facts, rules: Rules) -> DecisionRecord:
    """What :meth:`Store.conclude <rcinbox.store.Store.conclude>` records of ``decision``."""
    classified = facts.classification is not None or decision.intent is not None
    return DecisionRecord(
        action=decision.action,
        reason=decision.reason,
        handle=decision.handle,
        facts=_facts_json(facts, rules),
        reply_text=decision.reply_text,
        reply_from=decision.reply_from,
        reply_to=decision.reply_to,
        decided_at=facts.now,
        intent=_intent(decision, facts, rules),
        confidence=_confidence(decision, facts),
        backend=decision.backend or (facts.classification.backend if facts.classification else None),
        reply_kind=decision.reply_kind if classified and decision.action == "reply" else None,
        escalation=_escalation(decision, facts),
        opt_confidence=_opt_confidence(decision, facts),
    )


def _intent(decision: Decision, facts: Facts, rules: Rules) -> str | None:
    """The intent acted on: the decision's, else the classification's as ``min_confidence`` chooses."""
    if decision.intent is not None:
        return decision.intent
    c = facts.classification
    return None if c is None else c.chosen(rules.smart.min_confidence)


def _confidence(decision: Decision, facts: Facts) -> float | None:
    if decision.confidence is not None:
        return decision.confidence
    return None if facts.classification is None else facts.classification.confidence


def _opt_confidence(decision: Decision, facts: Facts) -> float | None:
    """An opt-out the classifier recognised keeps its confidence; an exact keyword none."""
    if decision.action != "opt-out" or classify_keyword(facts.message.text) == "stop":
        return None
    return _confidence(decision, facts)


def _escalation(decision: Decision, facts: Facts) -> EscalationRecord | None:
    escalation = decision.escalation
    if escalation is None:
        return None
    return EscalationRecord(
        text=escalation.text,
        from_number=escalation.from_number,
        to_number=escalation.to_number,
        handle=escalation.handle,
        about=facts.message.sender.phone_number,
    )


def _facts_json(facts: Facts, rules: Rules) -> dict[str, Any]:
    """The facts and rule settings a decision was taken on, for the decision record."""
    vacation = rules.vacation

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "now": iso(facts.now),
        "owner_numbers": sorted(facts.owner_numbers),
        "company_numbers": sorted(facts.company_numbers),
        "is_contact": counts_as_contact(facts.message.sender.phone_number, facts.is_contact, rules),
        "contact_name": facts.contact_name,
        "contact_last_name": facts.contact_last_name,
        "opted_out": facts.opted_out,
        "last_replies": {handle: iso(at) for handle, at in sorted(facts.last_replies.items())},
        "escalated_at": iso(facts.escalated_at),
        "classification": None
        if facts.classification is None
        else {
            "intent": facts.classification.intent,
            "confidence": facts.classification.confidence,
            "backend": facts.classification.backend,
        },
        "replied_to_message": facts.replied_to_message,
        "automated_count": facts.automated_count_24h,
        "can_send": facts.can_send,
        "age_s": None if facts.age is None else facts.age.total_seconds(),
        "before_first_start": facts.before_first_start,
        "vacation": {
            "enabled": vacation.enabled,
            "start": iso(vacation.start),
            "end": iso(vacation.end),
            "audience": vacation.audience,
            "repeat_after_s": None
            if vacation.repeat_after is None
            else vacation.repeat_after.total_seconds(),
        },
        "loop_fuse": {"count": rules.loop_fuse.count, "per_s": rules.loop_fuse.per.total_seconds()},
        "max_age_s": rules.max_age.total_seconds(),
        "smart": {
            "enabled": rules.smart.enabled,
            "classifier": rules.smart.classifier,
            "min_confidence": rules.smart.min_confidence,
            "escalate_to": rules.smart.escalate_to,
        },
    }
