"""GSM-7 / UCS-2 arithmetic, transliteration and fitting."""

from __future__ import annotations

import pytest

from rcinbox.rules.sms import encoding, fit, non_gsm_chars, segments, transliterate, units


def test_plain_ascii_is_gsm7_and_160_chars_fit_one_segment() -> None:
    assert encoding("Hello, world!") == "GSM-7"
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 306) == 2
    assert segments("a" * 307) == 3


def test_empty_text_has_no_segment() -> None:
    assert segments("") == 0


def test_gsm7_special_letters_are_not_ucs2() -> None:
    assert encoding("Café à Zürich, ¿qué tal? £5 @ 3€") == "GSM-7"
    assert non_gsm_chars("Ñandú ÆØÅ ßΔ") == ["ú"]


def test_extension_characters_count_twice() -> None:
    assert units("[]{}€") == 10
    assert segments("€" * 80) == 1
    assert segments("€" * 81) == 2
    # 152 plain + one escape pair: 154 > 153, so the pair moves to the next segment (never split)
    assert segments("a" * 152 + "€" + "a" * 10) == 2
    assert segments("a" * 300 + "€" * 3) == 2  # 306 septets = 2 x 153 exactly
    assert segments("a" * 301 + "€" * 3) == 3


def test_ucs2_limits_70_and_67() -> None:
    assert encoding("Hi “there”") == "UCS-2"
    assert segments("“" + "a" * 69) == 1
    assert segments("“" + "a" * 70) == 2
    assert segments("“" + "a" * 133) == 2
    assert segments("“" + "a" * 134) == 3


def test_emoji_counts_two_utf16_units_and_is_not_split() -> None:
    assert units("😀") == 2
    assert segments("😀" * 35) == 1
    assert segments("😀" * 36) == 2
    assert segments("a" * 66 + "😀") == 1  # 68 units <= 70
    # 134 units = 2 x 67, but the pair can't straddle the first boundary: 66 | 😀 + 65 | 1
    assert segments("a" * 66 + "😀" + "a" * 66) == 3


def test_non_gsm_chars_lists_each_offender_once_in_order() -> None:
    assert non_gsm_chars("I’m “away” — back soon… ’") == ["’", "“", "”", "—", "…"]


@pytest.mark.parametrize(
    ("typographic", "plain"),
    [
        ("“Hi”", '"Hi"'),
        ("„Hallo“", '"Hallo"'),
        ("I’m", "I'm"),
        ("‘quoted’ ‚low‛", "'quoted' 'low'"),
        ("9–5 — ok", "9-5 - ok"),
        ("wait…", "wait..."),
        ("• item", "- item"),
        ("10\u00a0AM", "10 AM"),
        ("a\u2009b\u202fc", "a b c"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
    ],
)
def test_transliterate(typographic: str, plain: str) -> None:
    assert transliterate(typographic) == plain
    assert encoding(plain) == "GSM-7"


def test_transliterate_keeps_letters() -> None:
    assert transliterate("Zoë Łukasz") == "Zoë Łukasz"


def test_fit_transliterates_when_that_makes_it_gsm7() -> None:
    text = "Auto-reply: I’m away — back Monday…"
    assert segments(text) == 1 and encoding(text) == "UCS-2"
    assert fit(text) == "Auto-reply: I'm away - back Monday..."


def test_fit_keeps_text_that_stays_ucs2_anyway() -> None:
    assert fit("I’m away 🌴") == "I’m away 🌴"
    assert fit("Plain text") == "Plain text"


def test_the_seed_samples_curly_apostrophe_costs_a_second_segment_until_fitted() -> None:
    text = "Auto-reply: I’m " + "x" * 60  # 76 chars: 2 UCS-2 segments, 1 GSM-7 segment
    assert segments(text) == 2
    assert segments(fit(text)) == 1
