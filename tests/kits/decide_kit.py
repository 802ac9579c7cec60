"""decide()'s world for its tests: the owner's numbers and the numbers that write in, the rules
(``RULES_TOML``: a vacation from ``START`` to ``END`` in New York, contacts only, an allowlist and a
blocklist), ``message`` (a text arriving ``INSIDE`` the window) and ``facts`` (what the pipeline
gathers about it; change any field by keyword)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rcinbox.events import InboundMessage, Party
from rcinbox.rules import Facts, parse_rules

NY = ZoneInfo("America/New_York")
OWNER = "+16505550100"
OWNER_2 = "+16505550101"
COMPANY = "+16505550000"
CHARLIE = "+14155550100"
ALLOWED = "+14155550111"
BLOCKED = "+14155550142"
STRANGER = "+12125550199"

RULES_TOML = """\
[vacation]
enabled = true
start = 2026-12-20T00:00:00
end = 2027-01-04T08:00:00
timezone = "America/New_York"
message = "Auto-reply: Hi {first_name}, I’m away until {return_date} {return_time}. Urgent: {backup_number}."
audience = "contacts"
repeat_after = "7d"
[vacation.values]
backup_number = "+16505550123"
[contacts]
allowlist = ["+14155550111"]
blocklist = ["+14155550142"]
"""
RULES = parse_rules(RULES_TOML)
START = datetime(2026, 12, 20, 0, 0, tzinfo=NY)
END = datetime(2027, 1, 4, 8, 0, tzinfo=NY)
INSIDE = datetime(2026, 12, 24, 15, 0, tzinfo=UTC)


def message(
    text: str = "Hi Alex, are you around?",
    sender: str = CHARLIE,
    name: str | None = None,
    to: tuple[str, ...] = (OWNER,),
) -> InboundMessage:
    return InboundMessage(
        message_id="3062991514017",
        extension_id="62264425016",
        account_id="809646016",
        sender=Party(sender, name),
        recipients=tuple(Party(n, target=i == 0) for i, n in enumerate(to)),
        text=text,
        attachments=(),
        conversation_id="1638233798595111162",
        created_at=INSIDE,
        raw={},
        source="websocket",
    )


def facts(msg: InboundMessage | None = None, **changes: object) -> Facts:
    base = Facts(
        message=msg or message(),
        now=INSIDE,
        owner_numbers=frozenset({OWNER, OWNER_2}),
        company_numbers=frozenset({COMPANY}),
        contact_name="Charlie",
        is_contact=True,
        opted_out=False,
        replied_to_message=False,
        automated_count_24h=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]
