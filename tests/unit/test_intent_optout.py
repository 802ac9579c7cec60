"""Fuzzy opt-out, the same for both backends: what a reasonable person reads as "stop texting
me" is ``opt_out`` at or above OPT_OUT_CERTAIN; "stop by", "cancel my appointment", "don't stop
the order" are not opt-outs at all (not even for review); a mere cue is borderline."""

from __future__ import annotations

import pytest
from intent_kit import classifier

from rcinbox.intent import BACKENDS, OPT_OUT_CERTAIN, OPT_OUT_REVIEW, Backend
from rcinbox.intents.optout import canonical, opt_out_evidence

OPT_OUTS = [
    "pls stop texting",
    "take me off your list",
    "no more messages",
    "unsubscribe me",
    "stop!!!",
    "STOP 🛑",
    "stpo",
    "unsubscibe",
    "Stop textin me pleeease",
    "alto",
    "no más mensajes",
    "baja",
    "dejen de escribirme",
    "I never signed up for this. Stop",
    "wrong number, stop texting me",
]
NOT_OPT_OUTS = [
    "Stop by the office tomorrow?",
    "cancel my appointment",
    "don't stop the order",
    "I'll stop at the bank on the way",
    "the bus stop moved",
    "Can I stop the automatic payments?",
    "we can't stop laughing",
    "hey it's Maria",
]
BORDERLINE = ["I'm not interested", "why do you keep texting me"]
FOOTERS = [  # a sender's own opt-out instructions: not a request to stop
    "FLASH SALE: 20% off all office supplies today only. Reply STOP to opt out",
    "Your code is 1234. Txt STOP 2 end",
    "Appointment reminder for Tue 3pm. Reply STOP to unsubscribe.",
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text", OPT_OUTS)
def test_fuzzy_opt_outs_are_certain(backend: Backend, text: str) -> None:
    result = classifier(backend).classify(text)
    assert (result.intent, result.confidence >= OPT_OUT_CERTAIN) == ("opt_out", True), result


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text", NOT_OPT_OUTS)
def test_stop_and_cancel_in_other_senses_are_not_opt_outs(backend: Backend, text: str) -> None:
    result = classifier(backend).classify(text)
    assert result.intent != "opt_out", result


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text", FOOTERS)
def test_a_senders_reply_stop_footer_is_not_an_opt_out(backend: Backend, text: str) -> None:
    result = classifier(backend).classify(text)
    assert not (result.intent == "opt_out" and result.confidence >= OPT_OUT_REVIEW), result


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text", BORDERLINE)
def test_a_mere_cue_is_borderline_for_a_human(backend: Backend, text: str) -> None:
    result = classifier(backend).classify(text)
    assert result.intent == "opt_out", result
    assert OPT_OUT_REVIEW <= result.confidence < OPT_OUT_CERTAIN


@pytest.mark.parametrize(
    ("text", "evidence"),
    [
        ("stop", "explicit"),
        ("quit texting me", "explicit"),
        ("remove my number", "explicit"),
        ("remove me from the meeting invite", "cue"),
        ("Stop by the office?", "guarded"),
        ("cancel my appointment", "guarded"),
        ("too many texts", "cue"),
        ("see you tomorrow", "none"),
    ],
)
def test_evidence(text: str, evidence: str) -> None:
    assert opt_out_evidence(text) == evidence


@pytest.mark.parametrize(
    ("word", "key"),
    [
        ("stpo", "stop"),
        ("stahp", "stop"),
        ("unsubscibe", "unsubscribe"),
        ("unsusbcribe", "unsubscribe"),
        ("mesages", "messages"),
        ("tetxing", "texting"),
        ("step", "step"),
        ("top", "top"),
    ],
)
def test_misspelt_key_words(word: str, key: str) -> None:
    assert canonical(word) == key
