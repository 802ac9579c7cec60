"""Rules per extension (``[extensions."<id>"]``): each extension's keys over the file's defaults, key
by key; the effective rules and the overridden keys (the dashboard's API); the errors, naming the
extension and the line of its section; budget warnings; reload; the decision with an extension's
rules."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from decide_kit import facts, message
from rules_kit import ISSUE, error

from rcinbox.intent import Classification
from rcinbox.rules import RulesWatcher, budget_warnings, decide, parse_rules
from rcinbox.rules.config import Rules

NY = ZoneInfo("America/New_York")
BLAIR, ALEX, THIRD = "62264426016", "62264425016", "62264427016"
BLAIRS = f"""
[extensions."{BLAIR}".vacation]
start = 2026-12-22T09:00:00
end = 2027-01-10T08:00:00
message = "Auto-reply: Blair is away until {{return_date}}. Ask {{backup_name}}."
audience = "everyone"
[extensions."{BLAIR}".vacation.values]
backup_name = "Sam"
[extensions."{BLAIR}".smart]
enabled = true
[extensions."{BLAIR}".smart.replies]
urgent = "Auto-reply: Blair is away. Urgent? Call {{backup_number}}."
"""
FILE = ISSUE + BLAIRS  # the defaults (the issue's example) and Blair's own section
E = f'extensions."{BLAIR}"'  # how an error names Blair's section


def section_line(text: str, needle: str) -> int:
    """The line of ``needle`` inside the extensions' part of ``text`` (1-based)."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("[extensions."))
    return next(i for i, line in enumerate(lines) if i >= first and needle in line) + 1


def test_an_extension_gets_its_keys_over_the_defaults_key_by_key() -> None:
    rules = parse_rules(FILE)
    blair, alex = rules.for_extension(BLAIR), rules.for_extension(ALEX)
    assert blair.vacation.start == datetime(2026, 12, 22, 9, 0, tzinfo=NY)  # its own window...
    assert blair.vacation.end == datetime(2027, 1, 10, 8, 0, tzinfo=NY)  # ... in the file's time zone
    assert blair.vacation.enabled is True and blair.vacation.repeat_after == timedelta(days=7)  # the file's
    assert blair.vacation.message.startswith("Auto-reply: Blair is away")
    assert blair.vacation.audience == "everyone"
    # a values table merges key by key: its own placeholder beside the file's
    assert dict(blair.vacation.values) == {"backup_number": "+16505550123", "backup_name": "Sam"}
    assert blair.smart.enabled is True and dict(blair.smart.replies) == {
        "urgent": "Auto-reply: Blair is away. Urgent? Call {backup_number}."
    }
    assert blair.contacts == rules.contacts and blair.loop_fuse == rules.loop_fuse  # file-wide
    # an extension without a section gets the file's defaults, as before
    assert alex == parse_rules(ISSUE) and alex.vacation == rules.vacation and not alex.smart.enabled
    assert blair.extensions == {} and alex.extensions == {}


def test_which_keys_an_extension_overrides() -> None:
    rules = parse_rules(FILE)
    assert rules.overridden(BLAIR) == frozenset(
        {
            "vacation.start",
            "vacation.end",
            "vacation.message",
            "vacation.audience",
            "vacation.values.backup_name",
            "smart.enabled",
            "smart.replies.urgent",
        }
    )
    assert rules.overridden(ALEX) == frozenset()
    assert sorted(rules.extensions) == [BLAIR]


def test_a_file_without_extensions_is_what_it_was() -> None:
    rules = parse_rules(ISSUE)
    assert rules.extensions == {} and rules.for_extension(BLAIR) == rules


def test_the_defaults_may_be_off_and_each_extension_on() -> None:
    text = (
        ISSUE.replace("enabled = true", "enabled = false")
        + f'[extensions."{BLAIR}".vacation]\nenabled = true\n'
    )
    rules = parse_rules(text)
    now = datetime(2026, 12, 28, 15, 0, tzinfo=UTC)
    assert not rules.vacation.active(now) and not rules.for_extension(ALEX).vacation.active(now)
    assert rules.for_extension(BLAIR).vacation.active(now)


def test_an_extension_can_turn_off_the_files_escalation() -> None:
    text = (
        ISSUE
        + '[smart.escalate]\nto = "+16505550177"\n'
        + f'[extensions."{BLAIR}".smart.escalate]\nto = ""\n'
    )
    rules = parse_rules(text)
    assert rules.smart.escalate_to == "+16505550177"
    assert rules.for_extension(BLAIR).smart.escalate_to is None


@pytest.mark.parametrize(
    ("added", "needle", "reason"),
    [
        (  # a typo in a key of the section
            f'[extensions."{BLAIR}".vacation]\nmesage = "Auto-reply: away"\n',
            "mesage",
            f"{E}: unknown key 'vacation.mesage' in [{E}.vacation] (known:",
        ),
        (  # a table an extension cannot have
            f'[extensions."{BLAIR}".vacaton]\nenabled = true\n',
            "vacaton",
            f"{E}: unknown key 'vacaton' in [{E}] (known: smart, vacation)",
        ),
        (  # file-wide tables and keys
            f'[extensions."{BLAIR}".contacts]\nallowlist = []\n',
            "contacts]",
            f'extensions."{BLAIR}": [contacts] is file-wide',
        ),
        (
            f'[extensions."{BLAIR}".safety]\nloop_fuse = "10/1h"\n',
            "safety]",
            f'extensions."{BLAIR}": [safety] is file-wide',
        ),
        (
            f'[extensions."{BLAIR}".smart]\nclassifier = "embeddings"\n',
            "classifier",
            f'extensions."{BLAIR}": smart.classifier is file-wide (one classifier reads every text)',
        ),
        (  # not an extension id
            '[extensions."alex".vacation]\nenabled = true\n',
            "alex",
            "extensions.\"alex\": 'alex' is not an extension id",
        ),
        (  # the section's value, checked like the file's own
            f'[extensions."{BLAIR}".vacation]\naudience = "friends"\n',
            "friends",
            f'extensions."{BLAIR}": vacation.audience must be "contacts" or "everyone", not \'friends\'',
        ),
        (  # an end before the file's start
            f'[extensions."{BLAIR}".vacation]\nend = 2026-12-01T00:00:00\n',
            "end =",
            f'extensions."{BLAIR}": vacation.end must be after vacation.start',
        ),
        (
            f'[extensions."{BLAIR}".vacation]\nmessage = "Auto-reply: ask {{backup_nme}}"\n',
            "backup_nme",
            f'extensions."{BLAIR}": vacation.message uses {{backup_nme}}, which has no value',
        ),
        (
            f'[extensions."{BLAIR}".vacation.values]\nfirst_name = "Boss"\n',
            "first_name",
            f'extensions."{BLAIR}": vacation.values.first_name is built in',
        ),
        (
            f'[extensions."{BLAIR}".smart.replies]\nlunch = "Auto-reply: no"\n',
            "lunch",
            f'extensions."{BLAIR}": smart.replies.lunch is not an intent with a reply',
        ),
        (
            f'[extensions."{BLAIR}".smart.escalate]\nto = "555-CALL"\n',
            "555-CALL",
            f"extensions.\"{BLAIR}\": smart.escalate.to: '555-CALL' is not a valid phone number",
        ),
        (
            f'[extensions."{BLAIR}"]\nvacation = 3\n',
            "vacation = 3",
            f'extensions."{BLAIR}": vacation must be a table ([extensions."{BLAIR}".vacation])',
        ),
    ],
)
def test_a_mistake_in_a_section_is_refused_with_the_extension_and_its_line(
    added: str, needle: str, reason: str
) -> None:
    text = ISSUE + added
    exc = error(text)
    assert exc.reason.startswith(reason), exc.reason
    assert exc.line == section_line(text, needle)
    assert str(exc).startswith(f"rcinbox.toml:{exc.line}: ")


def test_extensions_must_be_a_table_of_ids() -> None:
    exc = error('extensions = "all"\n' + ISSUE)
    assert (exc.line, exc.reason) == (
        1,
        'extensions must be a table of extension ids, like [extensions."62264426016".vacation]',
    )


def test_an_inherited_key_that_breaks_an_extension_points_at_its_section() -> None:
    # the file's message needs {backup_number}; an extension that enables the vacation without a
    # message of its own, with the window off, is told at its section
    text = ISSUE.replace("enabled = true\n", "enabled = false\n").replace("end = 2027-01-04T08:00:00\n", "")
    exc = error(text + f'[extensions."{BLAIR}".vacation]\nenabled = true\n')
    assert (
        exc.reason
        == f"{E}: vacation.end is required when vacation.enabled = true (replies only run in a window)"
    )
    assert exc.line == section_line(
        text + f'[extensions."{BLAIR}".vacation]\nenabled = true\n', "enabled = true"
    )


def test_a_smart_reply_over_budget_in_a_section_is_refused() -> None:
    long = "Auto-reply: " + "x" * 160
    text = FILE.replace(
        'urgent = "Auto-reply: Blair is away. Urgent? Call {backup_number}."', f'urgent = "{long}"'
    )
    exc = error(text)
    assert exc.reason.startswith(f'extensions."{BLAIR}": smart.replies.urgent is ')
    assert exc.line == section_line(text, "urgent =")


def test_budget_warnings_name_the_extension_whose_message_needs_them() -> None:
    text = FILE.replace("Blair is away until", "Blair is away \U0001f334 until")
    warnings = budget_warnings(parse_rules(text))
    assert warnings and all(w.startswith(f'extensions."{BLAIR}": vacation.message') for w in warnings)
    assert any("UCS-2" in w for w in warnings)
    assert budget_warnings(parse_rules(FILE)) == []


def write(path: Path, text: str, tick: int) -> None:
    path.write_text(text)
    os.utime(path, ns=(tick * 10**9, tick * 10**9))


def test_an_edit_of_a_section_is_reloaded_and_a_bad_one_keeps_the_last_good_rules(tmp_path: Path) -> None:
    path = tmp_path / "rcinbox.toml"
    write(path, ISSUE, 1)
    watcher = RulesWatcher(path)
    assert watcher.current().for_extension(BLAIR).vacation.audience == "contacts"
    write(path, FILE, 2)
    assert watcher.check() is True
    good = watcher.current()
    assert good.for_extension(BLAIR).vacation.audience == "everyone"
    write(path, FILE.replace('audience = "everyone"', 'audience = "all"'), 3)
    assert watcher.check() is False
    assert watcher.current() is good
    error = watcher.last_error
    assert error is not None and error.reason.startswith(f'extensions."{BLAIR}": vacation.audience')


def test_the_decision_with_each_extensions_rules() -> None:
    rules = parse_rules(FILE)
    now = datetime(2026, 12, 28, 15, 0, tzinfo=UTC)
    to_alex = decide(facts(message(), now=now), rules.for_extension(ALEX))
    to_blair = decide(facts(message(), now=now), rules.for_extension(BLAIR))
    assert (
        to_alex.reply_text is not None and "Charlie, I'm away until Monday, January 4" in to_alex.reply_text
    )
    assert to_blair.reply_text == "Auto-reply: Blair is away until Sunday, January 10. Ask Sam."
    assert to_alex.handle != to_blair.handle  # each reply is its own response
    urgent = Classification("urgent", 0.95, "builtin")
    smart = decide(facts(message(), now=now, classification=urgent), rules.for_extension(BLAIR))
    assert (smart.reply_kind, smart.reply_text) == (
        "urgent",
        "Auto-reply: Blair is away. Urgent? Call +16505550123.",
    )
    before = datetime(2026, 12, 21, 15, 0, tzinfo=UTC)  # in the file's window, before Blair's
    assert decide(facts(message(), now=before), rules.for_extension(BLAIR)).reason == "outside-window"
    assert decide(facts(message(), now=before), rules.for_extension(ALEX)).reason == "replied"


def test_rules_defaults_and_extensions_equal_by_value() -> None:
    assert parse_rules(FILE) == parse_rules(FILE)
    assert parse_rules(FILE) != parse_rules(ISSUE)
    assert Rules().for_extension(BLAIR) == Rules()
