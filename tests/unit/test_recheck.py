"""recheck(): is a queued reply still wanted under the current rules? One table, asked three ways:
of recheck() itself (pure), of decide() (the same rules give the same reasons: one definition each),
and of the outbox (tests/unit/test_outbox_rechecks.py), so dropping a check anywhere fails here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from rcinbox.events import InboundMessage, Party
from rcinbox.rules import Facts, decide, parse_rules
from rcinbox.rules.config import Rules
from rcinbox.rules.recheck import RECHECKED, QueuedReply, recheck

COUNTERPART = "+14155550100"  # Charlie, as the outbox tests queue him
OWNER = "+16505550100"
QUEUED_AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
BASE = """\
[vacation]
enabled = true
start = 2026-11-27T00:00:00
end = 2026-11-27T14:00:00
timezone = "UTC"
message = "Hi {first_name}, I'm away. Back soon."
audience = "everyone"
repeat_after = "7d"
"""
OFF = BASE.replace("enabled = true", "enabled = false")
ENDS = BASE.replace("end = 2026-11-27T14:00:00", "end = 2026-11-27T12:30:00")
BLOCKED = '\n[contacts]\nblocklist = ["(415) 555-0100"]\n'
CONTACTS_ONLY = BASE.replace('audience = "everyone"', 'audience = "contacts"')

OPTED_OUT = "opted-out: the counterpart opted out before the reply went out"
VACATION_OFF = "vacation-off: the vacation was switched off before the reply went out"
WINDOW_CLOSED = "outside-window: the vacation window closed before the reply went out"
BLOCKLISTED = "blocklisted: the counterpart was blocklisted before the reply went out"


@dataclass(frozen=True)
class Case:
    id: str
    rules: str  # the rules file right before the send
    waited: timedelta  # since the reply was queued at QUEUED_AT
    expected: str | None  # the outbox's last_error (None: it is sent)
    opted_out: bool = False

    @property
    def now(self) -> datetime:
        return QUEUED_AT + self.waited

    def parsed(self) -> Rules:
        return parse_rules(self.rules)


MINUTE = timedelta(minutes=1)
CASES = [
    Case("still-wanted", BASE, MINUTE, None),
    Case("opted-out", BASE, MINUTE, OPTED_OUT, opted_out=True),
    Case("opted-out-first", OFF + BLOCKED, timedelta(hours=2), OPTED_OUT, opted_out=True),
    Case("expired", BASE, timedelta(minutes=61), "expired: queued 61 min ago, longer than safety.max_age"),
    Case("max-age-exactly", BASE, timedelta(hours=1), None),
    Case(
        "expired-before-off",
        OFF,
        timedelta(hours=2),
        "expired: queued 120 min ago, longer than safety.max_age",
    ),
    Case("vacation-off", OFF, MINUTE, VACATION_OFF),
    Case("window-open", ENDS, timedelta(minutes=29), None),
    Case("window-end-excluded", ENDS, timedelta(minutes=30), WINDOW_CLOSED),
    Case("window-before-blocklist", ENDS + BLOCKED, timedelta(minutes=31), WINDOW_CLOSED),
    Case("blocklisted", BASE + BLOCKED, MINUTE, BLOCKLISTED),
    Case("address-book-not-asked", CONTACTS_ONLY, MINUTE, None),
]


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
