"""recheck_escalation(): is a queued escalation (an SMS to smart.escalate.to about an urgent text)
still wanted under the current rules right before the outbox sends it? One table, each reason once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from recheck_kit import BASE, ENDS, MINUTE, OFF, QUEUED_AT, Case

from rcinbox.rules.recheck import ESCALATION_RECHECKED, QueuedEscalation, recheck_escalation

ESCALATE_TO = "+16505550177"
SMART = f'\n[smart]\nenabled = true\n[smart.escalate]\nto = "{ESCALATE_TO}"\n'
ESCALATING = BASE + SMART
BLOCKED = '\n[contacts]\nblocklist = ["(650) 555-0177"]\n'  # refused with escalate.to = this number

OPTED_OUT = "opted-out: the escalation number opted out before the escalation went out"
SMART_OFF = "smart-off: smart replies were switched off before the escalation went out"
CHANGED = "escalation-changed: smart.escalate.to no longer names this number"
VACATION_OFF = "vacation-off: the vacation was switched off before the escalation went out"
WINDOW_CLOSED = "outside-window: the vacation window closed before the escalation went out"

CASES = [
    Case("still-wanted", ESCALATING, MINUTE, None),
    Case("opted-out", ESCALATING, MINUTE, OPTED_OUT, opted_out=True),
    Case("opted-out-first", OFF + SMART, timedelta(hours=2), OPTED_OUT, opted_out=True),
    Case(
        "expired", ESCALATING, timedelta(minutes=61), "expired: queued 61 min ago, longer than safety.max_age"
    ),
    Case("max-age-exactly", ESCALATING, timedelta(hours=1), None),
    Case(
        "smart-off",
        ESCALATING.replace("[smart]\nenabled = true", "[smart]\nenabled = false"),
        MINUTE,
        SMART_OFF,
    ),
    Case("escalation-removed", BASE + "\n[smart]\nenabled = true\n", MINUTE, CHANGED),
    Case("escalation-moved", ESCALATING.replace(ESCALATE_TO, "+16505550178"), MINUTE, CHANGED),
    Case("same-number-spelt-otherwise", ESCALATING.replace(ESCALATE_TO, "(650) 555-0177"), MINUTE, None),
    Case("vacation-off", OFF + SMART, MINUTE, VACATION_OFF),
    Case("window-open", ENDS + SMART, timedelta(minutes=29), None),
    Case("window-end-excluded", ENDS + SMART, timedelta(minutes=30), WINDOW_CLOSED),
    Case("blocklisted-since", ESCALATING.replace(ESCALATE_TO, "+16505550178") + BLOCKED, MINUTE, CHANGED),
]


def test_the_table_covers_every_recheck() -> None:
    reasons = {case.expected.split(":")[0] for case in CASES if case.expected is not None}
    assert reasons == set(ESCALATION_RECHECKED)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_recheck_escalation(case: Case) -> None:
    queued = QueuedEscalation(ESCALATE_TO, case.waited, case.now, case.opted_out)
    assert recheck_escalation(queued, case.parsed()) == case.expected


def test_without_rules_only_consent_is_rechecked() -> None:
    late = QueuedEscalation(ESCALATE_TO, timedelta(days=2), QUEUED_AT + timedelta(days=2), opted_out=False)
    assert recheck_escalation(late, None) is None
    assert (
        recheck_escalation(QueuedEscalation(ESCALATE_TO, MINUTE, QUEUED_AT, opted_out=True), None)
        == OPTED_OUT
    )
