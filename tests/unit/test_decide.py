"""decide(): every suppression reason, the order of the checks, window edges and time zones."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from decide_kit import (
    ALLOWED,
    BLOCKED,
    CHARLIE,
    COMPANY,
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

from rcinbox.rules import Decision, Facts, Rules, decide, parse_rules
from rcinbox.rules.decide import handle_for


def reason(f: Facts, rules: Rules = RULES) -> str:
    return decide(f, rules).reason


def test_reply_to_a_contact_inside_the_window() -> None:
    decision = decide(facts(), RULES)
    assert decision == Decision(
        action="reply",
        reason="replied",
        reply_text=(
            "Auto-reply: Hi Charlie, I'm away until Monday, January 4 8:00 AM. Urgent: +16505550123."
        ),
        reply_from=OWNER,
        reply_to=CHARLIE,
        handle=handle_for(RULES.vacation),
    )


def test_reply_goes_from_the_number_that_received_it() -> None:
    decision = decide(facts(message(to=(OWNER_2,))), RULES)
    assert (decision.reply_from, decision.reply_to) == (OWNER_2, CHARLIE)


def test_reply_never_quotes_the_inbound_text() -> None:
    secret = "my account number is 99887766"
    decision = decide(facts(message(text=secret)), RULES)
    assert decision.action == "reply"
    assert decision.reply_text is not None and "99887766" not in decision.reply_text


def test_first_name_falls_back_to_from_name_then_to_nothing() -> None:
    from_name = facts(message(sender=ALLOWED, name="Dana Lee"), contact_name=None, is_contact=False)
    assert decide(from_name, RULES).reply_text == (
        "Auto-reply: Hi Dana, I'm away until Monday, January 4 8:00 AM. Urgent: +16505550123."
    )
    nameless = facts(message(sender=ALLOWED, name="+1 415 555 0111"), contact_name=None, is_contact=False)
    assert decide(nameless, RULES).reply_text == (
        "Auto-reply: Hi, I'm away until Monday, January 4 8:00 AM. Urgent: +16505550123."
    )


@pytest.mark.parametrize(
    ("text", "action", "why"),
    [
        ("STOP", "opt-out", "opt-out"),
        ("stop!!", "opt-out", "opt-out"),
        ("Opt out", "opt-out", "opt-out"),
        ("START", "opt-in", "opt-in"),
        ("unstop", "opt-in", "opt-in"),
        ("HELP", "suppress", "help-keyword"),
    ],
)
def test_keywords(text: str, action: str, why: str) -> None:
    decision = decide(facts(message(text=text)), RULES)
    assert (decision.action, decision.reason, decision.reply_text) == (action, why, None)


def test_keywords_come_first_even_from_strangers_outside_the_window_and_when_opted_out() -> None:
    late = datetime(2027, 2, 1, tzinfo=UTC)
    f = facts(
        message(text="STOP", sender=STRANGER, to=(OWNER, OWNER_2)), now=late, opted_out=True, is_contact=False
    )
    assert decide(f, RULES).action == "opt-out"
    assert decide(replace(f, message=message(text="START", sender=STRANGER)), RULES).action == "opt-in"


def test_cancel_my_appointment_is_a_normal_message() -> None:
    assert reason(facts(message(text="Cancel my appointment"))) == "replied"


@pytest.mark.parametrize(
    ("sender", "why"),
    [
        (OWNER, "own-number"),
        ("+1 (650) 555-0101", "own-number"),
        (COMPANY, "company-number"),
        ("12345", "short-code"),
        ("+898287", "short-code"),
        ("AMAZON", "alphanumeric-sender"),
        ("anonymous", "invalid-sender"),
        ("+15551234567", "invalid-sender"),
    ],
)
def test_sender_safety(sender: str, why: str) -> None:
    assert reason(facts(message(sender=sender))) == why


def test_group_message() -> None:
    assert reason(facts(message(to=(OWNER, "+14155550123")))) == "group-message"


def test_no_receiving_number() -> None:
    """Nothing says which of the owner's numbers was texted: there is no number to answer from."""
    assert message(to=()).receiving_number is None
    assert reason(facts(message(to=()))) == "no-receiving-number"
    assert reason(facts(message(to=()), opted_out=True)) == "no-receiving-number"  # checked before consent


def test_opted_out_sender() -> None:
    assert reason(facts(opted_out=True)) == "opted-out"


@pytest.mark.parametrize(
    "text", ["Auto-reply: I'm away until Monday", "Sale! Reply STOP to opt out", "NETWORK MSG: low balance"]
)
def test_automated_texts(text: str) -> None:
    assert reason(facts(message(text=text))) == "automated-sender"


def test_vacation_off() -> None:
    off = parse_rules(RULES_TOML.replace("enabled = true", "enabled = false"))
    assert reason(facts(), off) == "vacation-off"


@pytest.mark.parametrize(
    ("now", "why"),
    [
        (START - timedelta(microseconds=1), "outside-window"),
        (START, "replied"),  # exactly at start: inside
        (START.astimezone(UTC), "replied"),  # same instant in UTC
        (END - timedelta(seconds=1), "replied"),
        (END, "outside-window"),  # exactly at end: outside
        (END.astimezone(ZoneInfo("Asia/Tokyo")), "outside-window"),
        (datetime(2026, 12, 20, 4, 59, tzinfo=UTC), "outside-window"),  # 23:59 in New York
        (datetime(2026, 12, 20, 5, 0, tzinfo=UTC), "replied"),
    ],
)
def test_window_edges(now: datetime, why: str) -> None:
    assert reason(facts(now=now)) == why


def test_a_dst_crossing_window_keeps_its_local_edges() -> None:
    # 2027-03-14 02:00 EST → 03:00 EDT: the window ends at 09:00 local *daylight* time (13:00 UTC)
    rules = parse_rules(
        RULES_TOML.replace("start = 2026-12-20T00:00:00", "start = 2027-03-10T09:00:00").replace(
            "end = 2027-01-04T08:00:00", "end = 2027-03-17T09:00:00"
        )
    )
    assert (
        reason(facts(now=datetime(2027, 3, 10, 13, 59, tzinfo=UTC)), rules) == "outside-window"
    )  # 08:59 EST
    assert reason(facts(now=datetime(2027, 3, 10, 14, 0, tzinfo=UTC)), rules) == "replied"  # 09:00 EST
    assert reason(facts(now=datetime(2027, 3, 17, 12, 59, tzinfo=UTC)), rules) == "replied"  # 08:59 EDT
    assert reason(facts(now=datetime(2027, 3, 17, 13, 0, tzinfo=UTC)), rules) == "outside-window"  # 09:00 EDT
    decision = decide(facts(now=datetime(2027, 3, 15, tzinfo=UTC)), rules)
    assert decision.reply_text is not None and "Wednesday, March 17 9:00 AM" in decision.reply_text


def test_the_senders_time_zone_does_not_matter() -> None:
    # A Tokyo sender texting at 14:00 local on Dec 20 — 00:00 in New York — is inside the window.
    now = datetime(2026, 12, 20, 14, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert reason(facts(message(sender="+81312345678"), now=now)) == "replied"


def test_blocklisted_in_any_audience() -> None:
    everyone = parse_rules(RULES_TOML.replace('audience = "contacts"', 'audience = "everyone"'))
    assert reason(facts(message(sender=BLOCKED))) == "blocklisted"
    assert reason(facts(message(sender="+1 415 555 0142"), is_contact=False), everyone) == "blocklisted"


def test_audience_contacts() -> None:
    assert reason(facts(message(sender=STRANGER), is_contact=False, contact_name=None)) == "not-a-contact"
    assert reason(facts(message(sender=ALLOWED), is_contact=False, contact_name=None)) == "replied"
    everyone = parse_rules(RULES_TOML.replace('audience = "contacts"', 'audience = "everyone"'))
    assert reason(facts(message(sender=STRANGER), is_contact=False, contact_name=None), everyone) == "replied"


def test_already_replied_to_this_message() -> None:
    assert reason(facts(replied_to_message=True)) == "already-replied"


def vacation_replied(at: datetime) -> dict[str, datetime]:
    """``facts.last_replies`` after the vacation message went to the sender ``at``."""
    return {handle_for(RULES.vacation): at}


def test_repeat_after_interval() -> None:
    assert (
        reason(facts(last_replies=vacation_replied(INSIDE - timedelta(days=7) + timedelta(seconds=1))))
        == "already-replied"
    )
    assert reason(facts(last_replies=vacation_replied(INSIDE - timedelta(days=7)))) == "replied"
    twelve = parse_rules(RULES_TOML.replace('repeat_after = "7d"', 'repeat_after = "12h"'))
    assert (
        reason(facts(last_replies=vacation_replied(INSIDE - timedelta(hours=11))), twelve)
        == "already-replied"
    )
    assert reason(facts(last_replies=vacation_replied(INSIDE - timedelta(hours=13))), twelve) == "replied"


def test_repeat_once_per_window() -> None:
    once = parse_rules(RULES_TOML.replace('repeat_after = "7d"', 'repeat_after = "once"'))
    late = END - timedelta(hours=1)
    assert (
        reason(facts(now=late, last_replies=vacation_replied(START + timedelta(minutes=5))), once)
        == "already-replied"
    )
    # a reply during an earlier vacation does not count for this one
    assert (
        reason(facts(now=late, last_replies=vacation_replied(START - timedelta(days=30))), once) == "replied"
    )


def test_loop_fuse_wins_over_the_rules() -> None:
    assert reason(facts(automated_count_24h=2)) == "replied"
    assert reason(facts(automated_count_24h=3)) == "loop-fuse"
    tight = parse_rules(RULES_TOML + '[safety]\nloop_fuse = "1/24h"\n')
    assert reason(facts(automated_count_24h=1), tight) == "loop-fuse"


def test_order_of_checks() -> None:
    everything_wrong = facts(
        message(text="Auto-reply: away", sender=OWNER, to=(OWNER, OWNER_2)),
        opted_out=True,
        is_contact=False,
        replied_to_message=True,
        automated_count_24h=9,
        now=END,
    )
    steps = [
        ({}, "own-number"),
        (
            {"message": message(text="Auto-reply: away", sender=STRANGER, to=(OWNER, OWNER_2))},
            "group-message",
        ),
        ({"message": message(text="Auto-reply: away", sender=STRANGER)}, "opted-out"),
        ({"opted_out": False}, "automated-sender"),
        ({"message": message(sender=STRANGER)}, "outside-window"),
        ({"now": INSIDE}, "not-a-contact"),
        ({"is_contact": True}, "already-replied"),
        ({"replied_to_message": False}, "loop-fuse"),
        ({"automated_count_24h": 0}, "replied"),
    ]
    current = everything_wrong
    for change, expected in steps:
        current = replace(current, **change)  # type: ignore[arg-type]
        assert reason(current) == expected


def test_the_reply_is_gsm7_after_transliteration() -> None:
    decision = decide(facts(), RULES)
    assert decision.reply_text is not None
    assert "’" not in decision.reply_text and "I'm away" in decision.reply_text


def test_a_name_that_would_force_ucs2_is_folded_to_gsm7() -> None:
    zoe = decide(facts(contact_name="Zoë"), RULES).reply_text
    assert zoe == "Auto-reply: Hi Zoe, I'm away until Monday, January 4 8:00 AM. Urgent: +16505550123."
    jose = decide(facts(contact_name="José"), RULES).reply_text
    assert jose is not None and "Hi José," in jose  # é is GSM-7: kept


def test_a_name_that_cannot_be_folded_is_kept() -> None:
    text = decide(facts(contact_name="李"), RULES).reply_text
    assert text is not None and text.startswith("Auto-reply: Hi 李, I’m away")  # UCS-2 anyway: untouched


def test_the_allowlist_is_a_rule_of_decide_not_of_the_address_book() -> None:
    """An allowlisted number the address book does not know (``is_contact`` false) counts as a
    contact, however either is written; the blocklist still wins over it."""
    spelled = parse_rules(
        RULES_TOML.replace('allowlist = ["+14155550111"]', 'allowlist = ["(415) 555-0111"]')
    )
    stranger = facts(message(sender="+1 415 555 0111"), is_contact=False, contact_name=None)
    assert reason(stranger, spelled) == "replied"
    both = parse_rules(RULES_TOML.replace('blocklist = ["+14155550142"]', 'blocklist = ["+14155550111"]'))
    assert reason(stranger, both) == "blocklisted"
