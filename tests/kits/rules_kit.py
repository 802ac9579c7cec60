"""Rules files for the rules tests: ``ISSUE`` (the issue's example), the path of the shipped
``examples/rcinbox.toml``, and ``error``, the RulesError a text is refused with."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcinbox.errors import RulesError
from rcinbox.rules import parse_rules

EXAMPLE = Path(__file__).parents[2] / "examples" / "rcinbox.toml"

ISSUE = """\
[vacation]
enabled = true
start = 2026-12-20T00:00:00          # local time in `timezone`
end = 2027-01-04T08:00:00
timezone = "America/New_York"
message = "MESSAGE"
audience = "contacts"                # "contacts" (address book + allowlist) or "everyone"
repeat_after = "7d"                  # per sender; "once" = once per vacation window
[vacation.values]
backup_number = "+16505550123"
[contacts]
allowlist = ["+14155550111"]
blocklist = []
""".replace(
    "MESSAGE",
    "Auto-reply: Hi {first_name}, I'm away until {return_date}. For urgent matters call {backup_number}.",
)


def error(text: str) -> RulesError:
    with pytest.raises(RulesError) as info:
        parse_rules(text, "rcinbox.toml")
    return info.value
