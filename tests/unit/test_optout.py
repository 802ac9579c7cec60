"""Opt-out / opt-in / help keywords: whole message only, any case, punctuation and spacing."""

from __future__ import annotations

import pytest

from rcinbox.rules.optout import classify_keyword


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        "Stop.",
        " stop!! ",
        "STOP\n",
        "StopAll",
        "stop all",
        "UNSUBSCRIBE",
        "Cancel",
        "end",
        "Quit!",
        "revoke",
        "OPT OUT",
        "opt-out",
        "OptOut",
        "opt out.",
        "Arrêt",
        "remove",
        "Stop please",
        "please stop!",
        "🛑 STOP 🛑",
        "\u201cSTOP\u201d",
    ],
)
def test_stop_words(text: str) -> None:
    assert classify_keyword(text) == "stop"


@pytest.mark.parametrize("text", ["START", "start", "Unstop", "un-stop", " Start! "])
def test_start_words(text: str) -> None:
    assert classify_keyword(text) == "start"


@pytest.mark.parametrize("text", ["HELP", "help?", "Info", "please help"])
def test_help_words(text: str) -> None:
    assert classify_keyword(text) == "help"


@pytest.mark.parametrize(
    "text",
    [
        "Cancel my appointment",
        "can you stop by tomorrow?",
        "Please don't stop",
        "stop stop",
        "I want to opt out of the newsletter but keep texting me",
        "The end is near",
        "help me move on Saturday?",
        "Starting tomorrow I'm free",
        # RingCentral's other opt-in words deliberately do not lift an opt-out (see the module doc)
        "SUBSCRIBE",
        "Resume",
        "continue",
        "",
        "   ",
        "?!",
    ],
)
def test_not_keywords(text: str) -> None:
    assert classify_keyword(text) is None
