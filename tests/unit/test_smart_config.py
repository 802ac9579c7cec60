"""The [smart] table of the rules file: the issue's example parses; every mistake is refused with the
file, the line and one clear reason (unknown intent, a placeholder with no value, a reply over the
one-segment budget, an escalation number on the blocklist)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rules_kit import EXAMPLE, ISSUE, error

from rcinbox.rules import parse_rules
from rcinbox.rules.smart_config import Smart

SMART = (
    ISSUE
    + """\
[smart]
enabled = true
classifier = "builtin"
min_confidence = 0.6
[smart.replies]
urgent = "Auto-reply: I'm away until {return_date}. For anything urgent call Sam at {backup_number}."
appointment = "Auto-reply: I'm away until {return_date}. To book or move a meeting: https://cal.example/alex"
thanks = ""
[smart.escalate]
to = "+16505550123"
"""
)
URGENT_LINE = 19  # the line of `urgent = ...` in SMART
THANKS_LINE = 21
TO_LINE = 23


def smart(old: str, new: str) -> str:
    assert old in SMART
    return SMART.replace(old, new)


def test_the_issue_example_parses() -> None:
    assert SMART.splitlines()[URGENT_LINE - 1].startswith("urgent = ")
    assert SMART.splitlines()[THANKS_LINE - 1].startswith("thanks = ")
    assert SMART.splitlines()[TO_LINE - 1].startswith("to = ")
    rules = parse_rules(SMART)
    assert rules.smart == Smart(
        enabled=True,
        classifier="builtin",
        min_confidence=0.6,
        replies={
            "urgent": (
                "Auto-reply: I'm away until {return_date}. For anything urgent call Sam at {backup_number}."
            ),
            "appointment": (
                "Auto-reply: I'm away until {return_date}. To book or move a meeting: https://cal.example/alex"
            ),
            "thanks": "",
        },
        escalate_to="+16505550123",
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        (
            "thanks = ",
            "thank = ",
            THANKS_LINE,
            "smart.replies.thank is not an intent with a reply (known: urgent, appointment, question, "
            "thanks, help)",
        ),
        (
            'thanks = ""',
            'opt_out = "Sorry"',
            THANKS_LINE,
            "smart.replies.opt_out is not an intent with a reply (an ",
        ),
        (
            'thanks = ""',
            'other = "Hi"',
            THANKS_LINE,
            "smart.replies.other is not an intent with a reply (a text of no known intent gets "
            "vacation.message)",
        ),
        (
            "at {backup_number}.",
            "at {backup_phone}.",
            URGENT_LINE,
            "smart.replies.urgent uses {backup_phone}, which has no value (use first_name, last_name, "
            "name, return_date, return_time, backup_number or add it to [vacation.values])",
        ),
        ("at {backup_number}", "at {backup_number", URGENT_LINE, "smart.replies.urgent: stray '{'"),
        (
            'thanks = ""',
            "thanks = false",
            THANKS_LINE,
            'smart.replies.thanks must be a string ("" for no reply)',
        ),
        (
            'to = "+16505550123"',
            'to = "+14155550142"',
            TO_LINE,
            "smart.escalate.to +14155550142 is in contacts.blocklist, which never gets an automated "
            "text: remove it from one of them",
        ),
        ('to = "+16505550123"', 'to = "12345"', TO_LINE, "smart.escalate.to: '12345' is not a valid"),
    ],
)
def test_invalid_smart_rules_are_refused_with_line(old: str, new: str, line: int, reason: str) -> None:
    text = smart(old, new).replace("blocklist = []", 'blocklist = ["+14155550142"]')
    exc = error(text)
    assert (exc.line, exc.reason[: len(reason)]) == (line, reason), str(exc)
    assert str(exc).startswith(f"rcinbox.toml:{line}: ")


def with_urgent(reply: str) -> str:
    """SMART with ``urgent = "<reply>"``."""
    lines = SMART.splitlines(keepends=True)
    lines[URGENT_LINE - 1] = f'urgent = "{reply}"\n'
    return "".join(lines)


# 123 characters once filled in with the long name and the real return date and time
FILLED_123 = (
    "Auto-reply: Hi {name}, I'm away until {return_date} {return_time}. Urgent? Call Sam: {backup_number}. "
)


def test_a_smart_reply_over_one_segment_is_an_error_naming_the_budget() -> None:
    exc = error(with_urgent(FILLED_123 + "x" * 38))
    assert exc.line == URGENT_LINE
    assert exc.reason == (
        "smart.replies.urgent is 161 characters (GSM-7) with a long name (Christopher Richardson-Whitfield) "
        "and the return date filled in: 2 segments; a smart reply must fit in one segment (160 "
        "characters in GSM-7): shorten it"
    )


def test_the_budget_is_one_whole_segment_with_the_longest_name() -> None:
    assert parse_rules(with_urgent(FILLED_123 + "x" * 37)).smart.replies["urgent"].endswith("x" * 37)


def test_a_ucs2_smart_reply_is_held_to_70_characters_and_says_why() -> None:
    exc = error(smart("For anything urgent call Sam", "For anything urgent call Zoë 🙂"))
    assert exc.line == URGENT_LINE
    assert exc.reason.startswith(
        "smart.replies.urgent is 94 characters (UCS-2 because of ë (U+00EB), 🙂 (U+1F642)) "
    )
    assert exc.reason.endswith("a smart reply must fit in one segment (70 characters in UCS-2): shorten it")


def test_typographic_punctuation_does_not_count_against_the_budget() -> None:
    curly = smart("I'm away until {return_date}. For", "I’m away until {return_date} — for")
    assert parse_rules(curly).smart.replies["urgent"].startswith("Auto-reply: I’m away")


def test_the_readme_smart_table_parses_with_the_example_rules() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"### Smart replies\n\n```toml\n(.*?)```", readme, re.S)
    assert block is not None
    rules = parse_rules(EXAMPLE.read_text(encoding="utf-8") + block.group(1))
    assert rules.smart.enabled and set(rules.smart.replies) == {"urgent", "appointment", "thanks"}
    assert rules.smart.escalate_to == "+16505550177"
