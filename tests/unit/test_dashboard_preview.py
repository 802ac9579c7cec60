"""The Out of office preview: personalised text, GSM-7 counter and highlighted breakers."""

from __future__ import annotations

from rcinbox.dashboard.preview import preview
from rcinbox.rules.config import parse_rules

RULES = parse_rules("[vacation]\nenabled = false\n")


def test_plain_message_is_one_gsm7_segment_and_personalised() -> None:
    shown = preview(RULES, "Hi {first_name}, I am away.", "Ana")
    assert shown.rendered == "Hi Ana, I am away."
    assert (shown.encoding, shown.segments, shown.characters) == ("GSM-7", 1, 18)
    assert shown.breakers == []


def test_a_curly_apostrophe_switches_to_ucs2_and_is_highlighted() -> None:
    text = "Hi {first_name}, I\u2019m away. " + "Back soon. " * 5
    straight = preview(RULES, text.replace("\u2019", "'"), "Ana")
    curly = preview(RULES, text, "Ana")
    assert (straight.encoding, straight.segments) == ("GSM-7", 1)
    assert curly.encoding == "UCS-2" and curly.segments == 2
    assert curly.breakers == ["\u2019"]
    assert '<mark class="gsm-breaker" title="not GSM-7: U+2019">\u2019</mark>' in curly.highlighted()


def test_highlight_escapes_html() -> None:
    assert "&lt;b&gt;" in preview(RULES, "<b>", None).highlighted()
