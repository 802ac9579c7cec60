"""Both backends read the same canonical spelling of a text: case, accents, emoji, repeated
letters and SMS spellings folded."""

from __future__ import annotations

import pytest

from rcinbox.intents.normalise import normalise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", "stop"),
        ("stop!!!", "stop !"),
        ("Pleeease stop!!!", "please stop !"),
        ("STOPPP", "stop"),
        ("soooo goooood", "so good"),
        ("thank youuuu", "thank you"),
        ("no más mensajes", "no mas mensajes"),
        ("¿Dónde está su oficina?", "donde esta su oficina ?"),
        ("don't stop", "dont stop"),
        ("pls stop txting me", "please stop texting me"),
        ("plz u r the best", "please you are the best"),
        ("thx", "thanks"),
        ("ty", "thank you"),
        ("Need to move my appt 2morrow", "need to move my appointment tomorrow"),
        ("call me asap", "call me as soon as possible"),
        ("ur msgs", "your messages"),
        ("tmrw or tmr", "tomorrow or tomorrow"),
        ("porfa", "por favor"),
        ("👍", "emoji_ok"),
        ("ok 👌", "ok emoji_ok"),
        ("thanks 🙏", "thanks emoji_thanks"),
        ("STOP 🛑", "stop emoji_stop"),
        ("❤️", "emoji_happy"),
        ("🦄", "emoji"),
        ("what?!?", "what ?"),
        ("   ", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_normalise_is_idempotent_on_its_own_output() -> None:
    for text in ("Pleeease STOP texting me!!! 🛑", "Necesito una cita mañana, porfa", "k thx 👍"):
        assert normalise(normalise(text)) == normalise(text)
