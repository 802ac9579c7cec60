"""decide() with a classification: opt-out phrases and borderline opt-outs (whatever smart.enabled),
the reply chosen per intent with its own handle, repeat per handle, the escalation of urgent texts,
and what every decision records. The classification is built by hand: no classifier needed."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from decide_kit import (
    ALLOWED,
    BLOCKED,
    CHARLIE,
    END,
    INSIDE,
    OWNER,
    OWNER_2,
    RULES,
    RULES_TOML,
    START,
    STRANGER,
    facts,
    message,
)

from rcinbox.intent import Classification, Intent
from rcinbox.rules import Decision, Facts, Rules, decide, parse_rules
from rcinbox.rules.decide import Escalation, handle_for
from rcinbox.rules.sms import encoding, segments

ESCALATE_TO = "+16505550177"
URGENT = "Auto-reply: I’m away until {return_date}. Urgent? Call Sam at {backup_number}."
BOOKING = "Auto-reply: Hi {first_name}, to book or move a meeting: https://cal.example/alex"
SMART_TOML = (
    RULES_TOML
    + f"""\
[smart]
enabled = true
min_confidence = 0.6
[smart.replies]
urgent = "{URGENT}"
appointment = "{BOOKING}"
thanks = ""
[smart.escalate]
to = "{ESCALATE_TO}"
"""
)
SMART = parse_rules(SMART_TOML)
SMART_OFF = parse_rules(
    SMART_TOML.replace("enabled = true\nmin_confidence", "enabled = false\nmin_confidence")
)
URGENT_TEXT = "Urgent, my card was stolen, call me"
VACATION_TEXT = "Auto-reply: Hi Charlie, I'm away until Monday, January 4 8:00 AM. Urgent: +16505550123."
URGENT_REPLY = "Auto-reply: I'm away until Monday, January 4. Urgent? Call Sam at +16505550123."
ESCALATION_TEXT = (
    "rcinbox: urgent text from Charlie Williams (+14155550100) to +16505550100. Not quoted here; "
    "please contact them."
)


def said(intent: Intent, confidence: float = 0.9, text: str = URGENT_TEXT, **changes: object) -> Facts:
    """The facts of a text from Charlie (a contact) that the classifier read as ``intent``."""
    found = Classification(intent, confidence, "builtin")
    return facts(message(text=text), classification=found, contact_last_name="Williams", **changes)


def handle_of(intent: Intent, rules: Rules = SMART) -> str:
    return decide(said(intent), rules).handle


# -- without a classification: exactly the rules of today ------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"msg": message(text="STOP")},
        {"msg": message(sender=STRANGER), "is_contact": False},
        {"msg": message(sender=BLOCKED)},
        {"now": END},
        {"automated_count_24h": 3},
        {"last_replies": {handle_for(RULES.vacation): INSIDE - timedelta(hours=1)}},
    ],
)
def test_without_a_classification_smart_rules_decide_as_today(changes: dict[str, object]) -> None:
    f = facts(changes.pop("msg", None), **changes)  # type: ignore[arg-type]
    assert decide(f, SMART) == decide(f, RULES)
    assert decide(f, SMART).intent is None and decide(f, SMART).escalation is None


# -- opt-out phrases: recorded like STOP, whatever smart.enabled ------------------------------------


@pytest.mark.parametrize("rules", [SMART, SMART_OFF, RULES], ids=["smart", "smart-off", "no-smart-table"])
def test_a_confident_opt_out_phrase_is_an_opt_out_even_with_smart_replies_off(rules: Rules) -> None:
    decision = decide(said("opt_out", 0.8, "pls stop texting me"), rules)
    assert (decision.action, decision.reason) == ("opt-out", "opt-out-phrase")
    assert (decision.intent, decision.confidence, decision.backend) == ("opt_out", 0.8, "builtin")
    assert decision.reply_text is None and decision.escalation is None


def test_an_opt_out_phrase_is_recorded_whoever_sends_it_and_whenever() -> None:
    stranger = said("opt_out", 0.95, now=END + timedelta(days=3), is_contact=False)
    stranger = replace(stranger, message=message(text="take me off your list", sender=STRANGER))
    assert decide(stranger, SMART).action == "opt-out"
    assert decide(said("opt_out", 0.95, opted_out=True), SMART).action == "opt-out"


def test_an_opt_out_phrase_counts_only_from_a_person() -> None:
    """A short code's or a robot's "Reply STOP to opt out" is its own footer, not a request (an
    exact STOP still counts from anyone)."""
    short_code = replace(
        said("opt_out", 0.95), message=message(text="Sale! Reply STOP to opt out", sender="72345")
    )
    assert decide(short_code, SMART).reason == "short-code"
    robot = said("opt_out", 0.95, "Your code is 1234. Reply STOP to opt out")
    assert decide(robot, SMART).reason == "automated-sender"
    exact = replace(said("opt_out", 0.95), message=message(text="STOP", sender="72345"))
    assert decide(exact, SMART).action == "opt-out"


def test_keywords_still_win_over_the_classification() -> None:
    assert decide(said("urgent", 0.99, "STOP"), SMART).reason == "opt-out"
    start = decide(said("opt_out", 0.99, "START"), SMART)
    assert (start.action, start.intent) == ("opt-in", "opt_out")
    assert decide(said("urgent", 0.99, "HELP"), SMART).reason == "help-keyword"


@pytest.mark.parametrize("confidence", [0.5, 0.6, 0.79])
@pytest.mark.parametrize("rules", [SMART, SMART_OFF], ids=["smart", "smart-off"])
def test_a_borderline_opt_out_suppresses_this_reply_only(confidence: float, rules: Rules) -> None:
    decision = decide(said("opt_out", confidence, "no more pls"), rules)
    assert (decision.action, decision.reason) == ("suppress", "possible-opt-out")
    assert (decision.intent, decision.confidence) == ("opt_out", confidence)
    assert decision.escalation is None


def test_below_the_review_threshold_an_opt_out_guess_changes_nothing() -> None:
    decision = decide(said("opt_out", 0.49, "Stop by the office tomorrow?"), SMART)
    assert (decision.reason, decision.reply_text, decision.reply_kind) == (
        "replied",
        VACATION_TEXT,
        "vacation",
    )


def test_where_a_borderline_opt_out_sits_in_the_order() -> None:
    borderline = said("opt_out", 0.7, "stop it")
    # the sender, group, consent and automation rules come first: no human needs to look at those
    assert decide(replace(borderline, owner_numbers=frozenset({CHARLIE})), SMART).reason == "own-number"
    assert decide(replace(borderline, opted_out=True), SMART).reason == "opted-out"
    robot = replace(borderline, message=message(text="Sale ends today! Reply STOP to opt out"))
    assert decide(robot, SMART).reason == "automated-sender"
    # it wins over every rule about this message's reply
    late = [
        {"age": timedelta(hours=5)},
        {"now": END},
        {"is_contact": False, "message": message(text="stop it", sender=STRANGER)},
        {"message": message(text="stop it", sender=BLOCKED)},
        {"replied_to_message": True},
        {"automated_count_24h": 9},
        {"can_send": False},
    ]
    for changes in late:
        assert decide(replace(borderline, **changes), SMART).reason == "possible-opt-out", changes  # type: ignore[arg-type]


# -- the reply chosen per intent ----------------------------------------------------------------------


def test_an_urgent_text_gets_the_urgent_reply_rendered_and_fitted_to_gsm7() -> None:
    decision = decide(said("urgent"), SMART)
    assert (decision.action, decision.reason, decision.reply_text) == ("reply", "replied", URGENT_REPLY)
    assert (decision.reply_from, decision.reply_to) == (OWNER, CHARLIE)
    assert (decision.intent, decision.confidence, decision.backend, decision.reply_kind) == (
        "urgent",
        0.9,
        "builtin",
        "urgent",
    )
    assert decision.handle.startswith("urgent:") and encoding(URGENT_REPLY) == "GSM-7"
    assert URGENT_TEXT not in URGENT_REPLY


def test_an_intent_reply_uses_the_senders_name_like_the_vacation_message() -> None:
    zoe = replace(said("appointment"), contact_name="Zoë")
    assert decide(zoe, SMART).reply_text == (
        "Auto-reply: Hi Zoe, to book or move a meeting: https://cal.example/alex"
    )


def test_an_empty_reply_means_no_reply() -> None:
    decision = decide(said("thanks", 0.95, "thanks!"), SMART)
    assert (decision.action, decision.reason, decision.reply_text) == ("suppress", "no-reply-needed", None)
    assert (decision.intent, decision.reply_kind) == ("thanks", "thanks")


def test_no_reply_needed_comes_after_the_window_and_audience_and_before_repeat() -> None:
    thanks = said("thanks", 0.95, "thanks!")
    assert decide(replace(thanks, now=END), SMART).reason == "outside-window"
    assert decide(replace(thanks, replied_to_message=True), SMART).reason == "no-reply-needed"
    assert decide(replace(thanks, can_send=False), SMART).reason == "no-reply-needed"


@pytest.mark.parametrize(
    ("intent", "confidence", "why", "recorded"),
    [
        ("urgent", 0.59, "below min_confidence", "other"),
        ("question", 0.9, "no reply configured", "question"),
        ("other", 0.9, "other", "other"),
        ("help", 0.9, "no reply configured", "help"),
    ],
)
def test_otherwise_the_plain_vacation_message(
    intent: Intent, confidence: float, why: str, recorded: str
) -> None:
    decision = decide(said(intent, confidence), SMART)
    assert (decision.reply_text, decision.reply_kind, decision.handle) == (
        VACATION_TEXT,
        "vacation",
        handle_for(SMART.vacation),
    ), why
    assert (decision.intent, decision.confidence) == (recorded, confidence)


def test_smart_replies_off_answer_with_the_vacation_message_and_still_record_the_intent() -> None:
    decision = decide(said("urgent"), SMART_OFF)
    assert (decision.reply_text, decision.reply_kind, decision.intent) == (
        VACATION_TEXT,
        "vacation",
        "urgent",
    )
    assert decision.escalation is None
    assert decide(said("thanks", 0.95), SMART_OFF).reason == "replied"


def test_every_decision_records_the_classification_suppressions_too() -> None:
    decision = decide(said("urgent", 0.75, now=END), SMART)
    assert (decision.reason, decision.intent, decision.confidence, decision.backend, decision.reply_kind) == (
        "outside-window",
        "urgent",
        0.75,
        "builtin",
        "urgent",
    )


# -- handles and repeat per handle ------------------------------------------------------------------


def test_each_reply_has_its_own_handle_that_changes_with_its_text_and_window() -> None:
    handles = {handle_of("urgent"), handle_of("appointment"), handle_of("thanks"), handle_of("question")}
    assert len(handles) == 4 and handle_for(SMART.vacation) in handles
    edited = parse_rules(SMART_TOML.replace("Call Sam", "Call Samantha"))
    moved = parse_rules(SMART_TOML.replace("end = 2027-01-04T08:00:00", "end = 2027-01-05T08:00:00"))
    assert len({handle_of("urgent"), handle_of("urgent", edited), handle_of("urgent", moved)}) == 3
    assert handle_of("appointment", edited) == handle_of("appointment")


def test_a_contact_who_got_the_vacation_reply_gets_the_urgent_reply_once() -> None:
    hour_ago = INSIDE - timedelta(hours=1)
    vacation_sent = {handle_for(SMART.vacation): hour_ago}
    assert decide(said("question", last_replies=vacation_sent), SMART).reason == "already-replied"
    assert decide(said("urgent", last_replies=vacation_sent), SMART).reply_text == URGENT_REPLY
    both_sent = {**vacation_sent, handle_of("urgent"): hour_ago}
    assert decide(said("urgent", last_replies=both_sent), SMART).reason == "already-replied"
    # the repeat interval holds per handle: a week later, the urgent reply may go again
    week_later = {handle_of("urgent"): INSIDE - timedelta(days=7)}
    assert decide(said("urgent", last_replies=week_later), SMART).reason == "replied"


def test_the_loop_fuse_counts_every_automated_text_whatever_its_handle() -> None:
    assert decide(said("urgent", automated_count_24h=3), SMART).reason == "loop-fuse"


# -- escalation ------------------------------------------------------------------------------------


def test_an_urgent_text_from_a_contact_escalates_naming_the_sender_never_quoting_the_text() -> None:
    escalation = decide(said("urgent"), SMART).escalation
    assert escalation == Escalation(
        text=ESCALATION_TEXT,
        from_number=OWNER,
        to_number=ESCALATE_TO,
        handle=escalation.handle if escalation else "",
        about=CHARLIE,
    )
    assert escalation is not None and escalation.handle.startswith("escalation:")
    assert "stolen" not in escalation.text
    assert (encoding(escalation.text), segments(escalation.text)) == ("GSM-7", 1)


def test_the_escalation_goes_from_the_number_that_received_the_text() -> None:
    escalation = decide(
        replace(said("urgent"), message=message(text=URGENT_TEXT, to=(OWNER_2,))), SMART
    ).escalation
    assert escalation is not None
    assert (escalation.from_number, escalation.text.split(" to ")[1][:12]) == (OWNER_2, OWNER_2)


def test_an_allowlisted_sender_without_a_name_is_named_by_number() -> None:
    allowed = replace(said("urgent"), message=message(text=URGENT_TEXT, sender=ALLOWED, name="Dana Lee"))
    allowed = replace(allowed, contact_name=None, contact_last_name=None, is_contact=False)
    escalation = decide(allowed, SMART).escalation
    assert escalation is not None
    assert escalation.text == (
        "rcinbox: urgent text from +14155550111 to +16505550100. Not quoted here; please contact them."
    )


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Zoë", "Zoe Williams (+14155550100)"),
        ("王", "+14155550100"),
        ("Ch\ufffdrlie", "+14155550100"),
        ("Maximilian-Alexander Bartholomew Fitzgerald-Featherstonehaugh of Wellington", None),
    ],
)
def test_the_escalation_name_is_gsm7_and_fits_one_segment(name: str, shown: str | None) -> None:
    escalation = decide(replace(said("urgent"), contact_name=name), SMART).escalation
    assert escalation is not None
    assert (encoding(escalation.text), segments(escalation.text)) == ("GSM-7", 1)
    assert escalation.text.startswith("rcinbox: urgent text from ")
    if shown is not None:
        assert f"from {shown} to " in escalation.text
    else:
        assert len(escalation.text) <= 160 and "(+14155550100) to +16505550100." in escalation.text


def test_once_per_sender_per_window() -> None:
    assert decide(said("urgent", escalated_at=START + timedelta(hours=1)), SMART).escalation is None
    assert decide(said("urgent", escalated_at=START - timedelta(days=40)), SMART).escalation is not None


def test_an_already_replied_urgent_text_does_not_escalate_twice_in_the_window() -> None:
    sent = {handle_of("urgent"): INSIDE - timedelta(hours=1)}
    again = decide(said("urgent", last_replies=sent, escalated_at=INSIDE - timedelta(hours=1)), SMART)
    assert (again.reason, again.escalation) == ("already-replied", None)


def test_the_escalation_does_not_depend_on_the_reply_to_the_sender() -> None:
    no_reply = parse_rules(SMART_TOML.replace(f'urgent = "{URGENT}"', 'urgent = ""'))
    for decision in (
        decide(said("urgent"), no_reply),
        decide(said("urgent", automated_count_24h=5), SMART),
        decide(said("urgent", last_replies={handle_of("urgent"): INSIDE}), SMART),
    ):
        assert decision.action == "suppress"
        assert decision.escalation is not None and decision.escalation.text == ESCALATION_TEXT


@pytest.mark.parametrize(
    ("why", "f", "rules"),
    [
        ("not urgent", said("appointment"), SMART),
        ("too unsure", said("urgent", 0.59), SMART),
        ("smart replies off", said("urgent"), SMART_OFF),
        ("no escalation number", said("urgent"), parse_rules(SMART_TOML.split("[smart.escalate]")[0])),
        (
            "not a contact",
            replace(said("urgent", is_contact=False), message=message(text=URGENT_TEXT, sender=STRANGER)),
            parse_rules(SMART_TOML.replace('audience = "contacts"', 'audience = "everyone"')),
        ),
        ("blocklisted", replace(said("urgent"), message=message(text=URGENT_TEXT, sender=BLOCKED)), SMART),
        ("opted out", said("urgent", opted_out=True), SMART),
        ("outside the window", said("urgent", now=END), SMART),
        ("too old", said("urgent", age=timedelta(hours=2)), SMART),
        ("group", replace(said("urgent"), message=message(text=URGENT_TEXT, to=(OWNER, STRANGER))), SMART),
        ("automated", said("urgent", text="URGENT: your code is 123456"), SMART),
        ("nothing may send from that number", said("urgent", can_send=False), SMART),
        (
            "the escalation number is the sender",
            said("urgent"),
            parse_rules(SMART_TOML.replace(ESCALATE_TO, CHARLIE)),
        ),
        (
            "the escalation number is the owner's",
            said("urgent"),
            parse_rules(SMART_TOML.replace(ESCALATE_TO, OWNER_2)),
        ),
    ],
)
def test_no_escalation(why: str, f: Facts, rules: Rules) -> None:
    assert decide(f, rules).escalation is None, why


def test_a_decision_without_escalation_is_as_before() -> None:
    assert decide(facts(), SMART) == Decision(
        action="reply",
        reason="replied",
        reply_text=VACATION_TEXT,
        reply_from=OWNER,
        reply_to=CHARLIE,
        handle=handle_for(SMART.vacation),
    )
