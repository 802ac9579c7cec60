"""The Out of office form's parsing and per-field validation errors."""

from __future__ import annotations

from datetime import datetime

from rcinbox.dashboard.outofoffice_form import field_of, parse_form, zone_choices
from rcinbox.dashboard.rules_file import edit
from rcinbox.errors import RulesError
from rcinbox.rules.config import parse_rules

GOOD = {
    "enabled": "on",
    "start": "2026-12-20T09:00",
    "end": "2027-01-04T08:00",
    "timezone": "Europe/Paris",
    "message": "Away until {return_date}.",
    "audience": "everyone",
    "repeat_after": "7d",
}


def test_good_form_gives_rules_values() -> None:
    parsed = parse_form(GOOD, extension=False)
    assert parsed.errors == {}
    assert parsed.values["start"] == datetime(2026, 12, 20, 9, 0)
    assert parsed.values["enabled"] is True and parsed.values["audience"] == "everyone"
    rules = parse_rules(edit("", "vacation", parsed.values))
    assert rules.vacation.enabled and rules.vacation.audience == "everyone"


def test_errors_are_one_line_per_field() -> None:
    bad = {**GOOD, "start": "next week", "timezone": "Mars/Olympus", "audience": "martians"}
    errors = parse_form(bad, extension=False).errors
    assert set(errors) == {"start", "timezone", "audience"}
    assert all("\n" not in line for line in errors.values())


def test_end_before_start_is_an_error_on_end() -> None:
    errors = parse_form({**GOOD, "end": "2026-12-01T08:00"}, extension=False).errors
    assert errors == {"end": "The end must be after the start."}


def test_empty_fields_on_an_extension_form_inherit() -> None:
    values = parse_form({"enabled": "on"}, extension=True).values
    assert values["message"] is None and values["audience"] is None and values["start"] is None


def test_rules_parser_errors_map_to_their_field() -> None:
    try:
        parse_rules(edit("", "vacation", {"enabled": True}))
    except RulesError as exc:
        assert field_of(exc) == "start"
    else:
        raise AssertionError("the parser accepted a window without a start")


def test_current_zone_is_listed_first() -> None:
    zones = zone_choices("Europe/Paris")
    assert zones[0] == "Europe/Paris" and zones.count("Europe/Paris") == 1
