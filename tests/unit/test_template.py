"""Templates: placeholders filled, missing ones vanish without stray spaces or punctuation."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcinbox.rules.template import TemplateError, placeholders, render

DATE = {"return_date": "Monday, January 4"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hi {first_name}, thanks", "Hi, thanks"),
        ("Hi {first_name}. Thanks", "Hi. Thanks"),
        ("Hi {first_name}!", "Hi!"),
        ("Hi {first_name}", "Hi"),
        ("{first_name}, call me", "Call me"),
        ("{first_name} call me", "Call me"),
        ("Thanks, {first_name}.", "Thanks."),
        ("Regards, {first_name}", "Regards"),
        ("Hi, {first_name}, thanks", "Hi, thanks"),
        ("Hello. {first_name}, thanks", "Hello. Thanks"),
        ("Hi {first_name} {last_name}, thanks", "Hi, thanks"),
        ("Call me ({phone}) today", "Call me today"),
        ("Hi {first_name}\nBye", "Hi\nBye"),
        ("Hi,\n{first_name}, see you", "Hi,\nSee you"),
        ("{first_name}{last_name}", ""),
        ("away until {return_date}.", "away until Monday, January 4."),
        ("back {return_date}, call {backup}.", "back Monday, January 4, call."),
        ("Use {{braces}} and {first_name}!", "Use {braces} and!"),
    ],
)
def test_render_missing_values(template: str, expected: str) -> None:
    assert render(template, DATE) == expected


def test_render_with_values() -> None:
    text = render(
        "Auto-reply: Hi {first_name}, I'm away until {return_date}. For urgent matters call {backup_number}.",
        {"first_name": "Dana", "return_date": "Monday, January 4", "backup_number": "+16505550123"},
    )
    assert (
        text == "Auto-reply: Hi Dana, I'm away until Monday, January 4. For urgent matters call +16505550123."
    )


def test_the_issue_example_without_name_and_backup() -> None:
    text = render(
        "Auto-reply: Hi {first_name}, I'm away until {return_date}. For urgent matters call {backup_number}.",
        DATE,
    )
    assert text == "Auto-reply: Hi, I'm away until Monday, January 4. For urgent matters call."


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_blank_values_count_as_missing(blank: str | None) -> None:
    assert render("Hi {first_name}, thanks", {"first_name": blank}) == "Hi, thanks"


def test_values_are_trimmed() -> None:
    assert render("Hi {first_name}, thanks", {"first_name": "  Dana "}) == "Hi Dana, thanks"


def test_placeholders_lists_names() -> None:
    assert placeholders("{a} and {b} and {a} {{not}}") == ["a", "b", "a"]


@pytest.mark.parametrize("template", ["Hi {first_name", "Hi }", "Hi {first name}", "{0}", "{a.b}", "{a:>3}"])
def test_stray_braces_are_errors(template: str) -> None:
    with pytest.raises(TemplateError, match="stray"):
        placeholders(template)
    with pytest.raises(TemplateError):
        render(template, {})


# --- properties ---------------------------------------------------------------------------------

NAMES = ("first_name", "last_name", "return_date", "extra")
word = st.sampled_from(["Hi", "thanks", "away", "call", "me", "Back", "soon", "I'm", "until"])
placeholder = st.sampled_from(NAMES).map(lambda name: "{" + name + "}")
punct = st.sampled_from(["", "", "", ",", ".", "!", "?", ":", ";"])
token = st.tuples(st.one_of(word, placeholder), punct).map("".join)
templates = st.lists(token, min_size=1, max_size=12).map(" ".join)
value = st.one_of(
    st.none(), st.just(""), st.sampled_from(["Dana", "Lee", "Monday, January 4", "+16505550123"])
)
value_maps = st.fixed_dictionaries(dict.fromkeys(NAMES, value))


@given(templates, value_maps)
def test_no_double_spaces_or_space_before_punctuation(template: str, values: dict[str, str | None]) -> None:
    text = render(template, values)
    assert "  " not in text
    assert not re.search(r" [,.!?;:]", text)
    assert text == text.strip()
    assert not re.search(r"[,;:][,.!?;:]", text)
    assert not text.startswith((",", ".", "!", "?", ";", ":"))
    assert "{" not in text and "}" not in text


@given(templates, value_maps)
def test_every_value_present_is_rendered(template: str, values: dict[str, str | None]) -> None:
    text = render(template, values)
    for name, val in values.items():
        if val and "{" + name + "}" in template:
            assert val in text


@given(st.lists(token.filter(lambda t: "{" not in t), min_size=1, max_size=12).map(" ".join))
def test_template_without_placeholders_is_unchanged(template: str) -> None:
    assert render(template, {}) == template
