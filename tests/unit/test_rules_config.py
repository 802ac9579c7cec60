"""The rules file: the issue's format, strict validation with line numbers, budget warnings, reload."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rules_kit import EXAMPLE, ISSUE, error

from rcinbox.errors import RulesError
from rcinbox.rules import RulesWatcher, budget_warnings, load_rules, parse_rules
from rcinbox.rules.config import Rules

NY = ZoneInfo("America/New_York")


def replace(old: str, new: str, text: str = ISSUE) -> str:
    assert old in text
    return text.replace(old, new)


def test_the_issue_example_parses() -> None:
    rules = parse_rules(ISSUE)
    vacation = rules.vacation
    assert vacation.enabled is True
    assert vacation.start == datetime(2026, 12, 20, 0, 0, tzinfo=NY)
    assert vacation.end == datetime(2027, 1, 4, 8, 0, tzinfo=NY)
    assert vacation.end.astimezone(UTC) == datetime(2027, 1, 4, 13, 0, tzinfo=UTC)
    assert vacation.timezone == NY
    assert vacation.audience == "contacts"
    assert vacation.repeat_after == timedelta(days=7)
    assert dict(vacation.values) == {"backup_number": "+16505550123"}
    assert rules.contacts.allowlist == frozenset({"+14155550111"})
    assert rules.contacts.blocklist == frozenset()
    assert rules.loop_fuse.count == 3 and rules.loop_fuse.per == timedelta(hours=24)


def test_the_shipped_example_is_the_issue_example_plus_safety() -> None:
    assert load_rules(EXAMPLE) == parse_rules(ISSUE)
    assert budget_warnings(load_rules(EXAMPLE)) == []


def test_missing_file_means_vacation_off(tmp_path: Path) -> None:
    rules = load_rules(tmp_path / "nope.toml")
    assert rules == Rules()
    assert rules.vacation.enabled is False
    assert not rules.vacation.active(datetime.now(UTC))


def test_empty_file_is_valid_and_off() -> None:
    assert parse_rules("") == Rules()


@pytest.mark.parametrize(
    ("repeat", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("2w", timedelta(weeks=2)),
        ("1h", timedelta(hours=1)),
        ("once", None),
        ("ONCE", None),
    ],
)
def test_repeat_after_forms(repeat: str, expected: timedelta | None) -> None:
    rules = parse_rules(replace('repeat_after = "7d"', f'repeat_after = "{repeat}"'))
    assert rules.vacation.repeat_after == expected


def test_end_before_start_is_refused_with_line_and_reason() -> None:
    exc = error(replace("end = 2027-01-04T08:00:00", "end = 2026-12-19T08:00:00"))
    assert str(exc) == "rcinbox.toml:4: vacation.end must be after vacation.start"
    assert (exc.line, exc.reason, exc.path) == (
        4,
        "vacation.end must be after vacation.start",
        Path("rcinbox.toml"),
    )


def test_toml_syntax_error_carries_its_line() -> None:
    exc = error(replace("audience = ", "audience = \n"))
    assert exc.line == 7
    assert "Invalid value" in exc.reason


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        ("enabled = true", "enabeld = true", 2, "unknown key 'vacation.enabeld' in [vacation]"),
        ("[contacts]", "[contact]", 11, "unknown key 'contact' in the top level"),
        ("blocklist = []", "blocklist = []\nblock_list = []", 14, "unknown key 'contacts.block_list'"),
        ("enabled = true", 'enabled = "yes"', 2, "vacation.enabled must be true or false"),
        (
            'timezone = "America/New_York"',
            'timezone = "America/Gotham"',
            5,
            "unknown time zone 'America/Gotham'",
        ),
        (
            'audience = "contacts"',
            'audience = "friends"',
            7,
            'vacation.audience must be "contacts" or "everyone"',
        ),
        (
            'repeat_after = "7d"',
            'repeat_after = "30m"',
            8,
            "vacation.repeat_after '30m' is below the 1h minimum",
        ),
        ('repeat_after = "7d"', 'repeat_after = "0"', 8, "vacation.repeat_after '0' is below the 1h minimum"),
        ('repeat_after = "7d"', 'repeat_after = "weekly"', 8, "vacation.repeat_after 'weekly' is not like"),
        ('repeat_after = "7d"', "repeat_after = 7", 8, "vacation.repeat_after must be a string"),
        ("{backup_number}", "{backup}", 6, "vacation.message uses {backup}, which has no value"),
        ("{first_name}", "{first_name", 6, "vacation.message: stray '{'"),
        (
            'backup_number = "+16505550123"',
            'first_name = "Boss"',
            10,
            "vacation.values.first_name is built in",
        ),
        ('backup_number = "+16505550123"', "backup_number = 16505550123", 10, "must be a string"),
        (
            'allowlist = ["+14155550111"]',
            'allowlist = ["+14155550111", "555-CALL"]',
            12,
            "'555-CALL' is not a valid",
        ),
        ("blocklist = []", 'blocklist = "+14155550111"', 13, "contacts.blocklist must be a list"),
        ("end = 2027-01-04T08:00:00\n", "", 2, "vacation.end is required when vacation.enabled = true"),
        ('timezone = "America/New_York"\n', "", 3, "vacation.start is a local time: set vacation.timezone"),
        (
            "start = 2026-12-20T00:00:00",
            "start = 2027-03-14T02:30:00",
            3,
            "does not exist in America/New_York",
        ),
        ("start = 2026-12-20T00:00:00", 'start = "soon"', 3, "vacation.start must be a date-time"),
    ],
)
def test_invalid_rules_are_refused_with_line(old: str, new: str, line: int, reason: str) -> None:
    exc = error(replace(old, new))
    assert exc.line == line, str(exc)
    assert reason in exc.reason
    assert str(exc).startswith(f"rcinbox.toml:{line}: ")


def test_invalid_number_in_a_multiline_array_points_at_its_line() -> None:
    text = replace('allowlist = ["+14155550111"]', 'allowlist = [\n  "+14155550111",\n  "+1555",\n]')
    assert error(text).line == 14


def test_empty_message_when_enabled_is_refused() -> None:
    exc = error(replace(ISSUE.splitlines()[5], 'message = "  "'))
    assert (exc.line, exc.reason) == (6, "vacation.message is empty")


def test_disabled_vacation_may_omit_the_window() -> None:
    rules = parse_rules('[vacation]\nenabled = false\nmessage = "Auto-reply: away"\n')
    assert rules.vacation.enabled is False
    assert rules.vacation.start is None


def test_dates_offsets_and_strings_are_accepted() -> None:
    text = replace("start = 2026-12-20T00:00:00", "start = 2026-12-20")
    text = replace("end = 2027-01-04T08:00:00", "end = 2027-01-04T13:00:00Z", text)
    vacation = parse_rules(text).vacation
    assert vacation.start == datetime(2026, 12, 20, tzinfo=NY)
    assert vacation.end == datetime(2027, 1, 4, 8, 0, tzinfo=NY)
    assert vacation.end.tzinfo == NY  # shown in the rules' zone (return_date)


def test_ambiguous_fall_back_time_takes_the_first_occurrence() -> None:
    text = replace("end = 2027-01-04T08:00:00", "end = 2027-11-07T01:30:00")
    end = parse_rules(text).vacation.end
    assert end is not None
    assert end.astimezone(UTC) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # EDT, fold=0


def test_numbers_are_normalised_to_e164() -> None:
    text = replace('allowlist = ["+14155550111"]', 'allowlist = ["(415) 555-0111", "+1 650 555 0199"]')
    text = replace("blocklist = []", 'blocklist = ["415.555.0142"]', text)
    contacts = parse_rules(text).contacts
    assert contacts.allowlist == frozenset({"+14155550111", "+16505550199"})
    assert contacts.blocklist == frozenset({"+14155550142"})


def test_safety_loop_fuse() -> None:
    rules = parse_rules(ISSUE + '[safety]\nloop_fuse = "5/12h"\n')
    assert (rules.loop_fuse.count, rules.loop_fuse.per) == (5, timedelta(hours=12))
    for bad in ('"0/24h"', '"11/24h"', '"3/30m"', '"lots"', "3"):
        exc = error(ISSUE + f"[safety]\nloop_fuse = {bad}\n")
        assert exc.line == 15 and "safety.loop_fuse" in exc.reason


# --- budget -------------------------------------------------------------------------------------


def with_message(message: str) -> Rules:
    return parse_rules(replace(ISSUE.splitlines()[5], f"message = {message!r}".replace("'", '"', 2)))


def test_budget_transliterates_typographic_punctuation() -> None:
    rules = parse_rules(replace("I'm away", "I\u2019m away \u2014"))
    warnings = budget_warnings(rules)
    assert len(warnings) == 1
    assert warnings[0].startswith("vacation.message: \u2019 (U+2019), \u2014 (U+2014) will be sent as GSM-7")


def test_budget_names_characters_that_force_ucs2() -> None:
    rules = parse_rules(replace("I'm away", "I'm away \U0001f334"))
    warnings = budget_warnings(rules)
    assert warnings == [
        "vacation.message needs UCS-2 because of \U0001f334 (U+1F334): "
        "one segment then holds only 70 characters",
        warnings[1],
    ]
    assert "2 segments per reply; keep it within 70" in warnings[1]


def test_budget_reports_more_than_one_segment_with_a_long_name() -> None:
    long = "Auto-reply: Hi {first_name} {last_name}, " + "x" * 126
    rules = parse_rules(replace(ISSUE.splitlines()[5], f'message = "{long}"'))
    (warning,) = budget_warnings(rules)
    assert warning.startswith("vacation.message is 175 characters (GSM-7) with a long name")
    assert "2 segments per reply; keep it within 160" in warning


def test_budget_asks_for_an_auto_reply_tag() -> None:
    rules = parse_rules(replace("Auto-reply: Hi", "Hi"))
    assert budget_warnings(rules) == [
        'vacation.message does not start with "Auto-reply:"; an automatic text should say so'
    ]


def test_budget_is_silent_when_disabled() -> None:
    assert budget_warnings(parse_rules(replace("enabled = true", "enabled = false"))) == []


# --- reload -------------------------------------------------------------------------------------


def write(path: Path, text: str, tick: int) -> None:
    path.write_text(text)
    os.utime(path, ns=(tick * 10**9, tick * 10**9))


def test_watcher_reloads_keeps_last_good_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "rcinbox.toml"
    write(path, ISSUE, 1)
    watcher = RulesWatcher(path)
    assert watcher.current().vacation.repeat_after == timedelta(days=7)
    assert watcher.check() is False  # unchanged

    write(path, replace('repeat_after = "7d"', 'repeat_after = "12h"'), 2)
    assert watcher.check() is True
    good = watcher.current()
    assert good.vacation.repeat_after == timedelta(hours=12)

    with caplog.at_level(logging.ERROR, logger="rcinbox.rules"):
        write(path, replace("end = 2027-01-04T08:00:00", "end = 2026-01-04T08:00:00"), 3)
        assert watcher.check() is False
    assert watcher.current() is good
    assert watcher.last_error is not None and watcher.last_error.line == 4
    assert f"{path}:4: vacation.end must be after vacation.start" in caplog.text

    write(path, replace('repeat_after = "7d"', 'repeat_after = "once"'), 4)
    assert watcher.check() is True
    assert watcher.current().vacation.repeat_after is None
    assert watcher.last_error is None


def test_watcher_ignores_a_touch_without_change(tmp_path: Path) -> None:
    path = tmp_path / "rcinbox.toml"
    write(path, ISSUE, 1)
    watcher = RulesWatcher(path)
    write(path, ISSUE, 2)
    assert watcher.check() is False


def test_watcher_keeps_rules_when_the_file_disappears(tmp_path: Path) -> None:
    path = tmp_path / "rcinbox.toml"
    write(path, ISSUE, 1)
    watcher = RulesWatcher(path)
    path.unlink()
    assert watcher.check() is False
    assert watcher.current().vacation.enabled is True


def test_watcher_refuses_an_invalid_file_at_start(tmp_path: Path) -> None:
    path = tmp_path / "rcinbox.toml"
    write(path, replace("enabled = true", "enabled = maybe"), 1)
    with pytest.raises(RulesError) as info:
        RulesWatcher(path)
    assert info.value.line == 2


def test_watcher_logs_budget_warnings_on_reload(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "rcinbox.toml"
    write(path, ISSUE, 1)
    watcher = RulesWatcher(path)
    with caplog.at_level(logging.WARNING, logger="rcinbox.rules"):
        write(path, replace("I'm away", "I'm away \U0001f334"), 2)
        assert watcher.check() is True
    assert "needs UCS-2 because of \U0001f334 (U+1F334)" in caplog.text


def test_watcher_warns_about_the_segment_budget_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "rcinbox.toml"
    write(path, replace("I'm away", "I\u2019m away \U0001f334"), 1)
    with caplog.at_level(logging.WARNING, logger="rcinbox.rules"):
        RulesWatcher(path)
    assert "needs UCS-2 because of \u2019 (U+2019), \U0001f334 (U+1F334)" in caplog.text
    assert "2 segments per reply" in caplog.text


def test_public_surface() -> None:
    import types

    import rcinbox.rules as package

    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }
    assert sorted(package.__all__) == sorted(public)


def test_dotted_keys_are_found_too() -> None:
    exc = error('# rules\nvacation.enabled = "yes"\n')
    assert (exc.line, exc.reason) == (2, "vacation.enabled must be true or false")


def test_watcher_picks_up_a_file_created_after_start(tmp_path: Path) -> None:
    path = tmp_path / "rcinbox.toml"
    watcher = RulesWatcher(path)
    assert watcher.current() == Rules()
    assert watcher.check() is False
    write(path, ISSUE, 1)
    assert watcher.check() is True
    assert watcher.current().vacation.enabled is True
