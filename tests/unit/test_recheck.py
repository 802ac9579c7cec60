"""recheck(): is a queued reply still wanted under the current rules? One table
(tests/kits/recheck_kit.py), asked three ways: of recheck() itself (pure), of decide() (the same
rules give the same reasons: one definition each), and of the outbox
(tests/unit/test_outbox_rechecks.py), so dropping a check anywhere fails here."""

from __future__ import annotations

from datetime import timedelta

import pytest
from recheck_kit import CASES, COUNTERPART, MINUTE, OPTED_OUT, OWNER, QUEUED_AT, Case

from rcinbox.events import InboundMessage, Party
from rcinbox.rules import Facts, decide
from rcinbox.rules.recheck import RECHECKED, QueuedReply, recheck


def test_the_table_covers_every_recheck() -> None:
    reasons = {case.expected.split(":")[0] for case in CASES if case.expected is not None}
    assert reasons == set(RECHECKED)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_recheck(case: Case) -> None:
    reply = QueuedReply(COUNTERPART, case.waited, case.now, case.opted_out)
    assert recheck(reply, case.parsed()) == case.expected


def test_without_rules_only_consent_is_rechecked() -> None:
    late = QueuedReply(COUNTERPART, timedelta(days=2), QUEUED_AT + timedelta(days=2), opted_out=False)
    assert recheck(late, None) is None
    assert recheck(QueuedReply(COUNTERPART, MINUTE, QUEUED_AT, opted_out=True), None) == OPTED_OUT


# decide() applies the same rules to the inbound text (its age: how late it reached rcinbox)
DECIDED_AS = {"expired": "too-old"}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_decide_gives_the_same_reason(case: Case) -> None:
    reason = "replied" if case.expected is None else case.expected.split(":")[0]
    assert decide(facts(case), case.parsed()).reason == DECIDED_AS.get(reason, reason)


def facts(case: Case) -> Facts:
    message = InboundMessage(
        message_id="1",
        extension_id="62264425016",
        account_id="809646016",
        sender=Party(COUNTERPART, "Charlie Williams"),
        recipients=(Party(OWNER, target=True),),
        text="Are you around?",
        attachments=(),
        conversation_id="1",
        created_at=QUEUED_AT,
        raw={},
        source="websocket",
    )
    return Facts(
        message=message,
        now=case.now,
        owner_numbers=frozenset({OWNER}),
        company_numbers=frozenset(),
        contact_name="Charlie",
        is_contact=True,
        opted_out=case.opted_out,
        replied_to_message=False,
        automated_count_24h=0,
        age=case.waited,
    )
