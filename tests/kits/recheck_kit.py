"""The table of rechecks (one ``Case`` per reason a queued reply is dropped, or sent): the rules
file right before the send, how long the reply waited since ``QUEUED_AT``, and what the outbox
records. tests/unit/test_recheck.py asks it of recheck() and decide(), test_outbox_rechecks.py of
the outbox; test_recheck_escalation.py reuses its rules files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rcinbox.rules import parse_rules
from rcinbox.rules.config import Rules

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
