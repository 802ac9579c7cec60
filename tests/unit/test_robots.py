"""Robot detection: sender kinds and automated-looking texts (positives and human negatives)."""

from __future__ import annotations

import pytest

from rcinbox.rules.robots import looks_automated, sender_kind


@pytest.mark.parametrize(
    ("sender", "kind"),
    [
        ("+14155550100", "ok"),
        ("+16505550123", "ok"),
        ("+1 (415) 555-0100", "ok"),
        ("(415) 555-0100", "ok"),
        ("+442071838750", "ok"),
        ("12345", "short-code"),
        ("+12345", "short-code"),
        ("898287", "short-code"),
        ("+898287", "short-code"),
        ("898-287", "short-code"),
        ("467", "short-code"),
        ("AMAZON", "alphanumeric"),
        ("VERIFY-ME", "alphanumeric"),
        ("Bank2Go", "alphanumeric"),
        ("", "invalid"),
        (None, "invalid"),
        ("Anonymous", "invalid"),
        ("private", "invalid"),
        ("someone@example.com", "invalid"),
        ("+15551234567", "invalid"),  # area code 555 does not exist
        ("+1650555", "invalid"),
        ("12", "invalid"),
        ("A very long sender name", "invalid"),
    ],
)
def test_sender_kind(sender: str | None, kind: str) -> None:
    assert sender_kind(sender) == kind


@pytest.mark.parametrize(
    "text",
    [
        # auto-replies
        "Auto-reply: I'm away until Monday.",
        "[Auto Reply] Thanks for your message",
        "Automatic reply: Out of office",
        "Autoreply - closed for the holidays",
        "This is an automated message. Please do not reply.",
        "Out of office: back on Jan 4",
        "I'm away until January 4 with limited access to messages.",
        "I am currently out of the office and will get back to you when I return.",
        "I’m on vacation until the 10th. For urgent matters call 555-0100.",
        "Please do not reply to this message.",
        # marketing
        "Big sale today! 20% off everything. Reply STOP to opt out.",
        "Your order shipped. Msg&data rates may apply. Txt STOP to cancel",
        "Msg & data rates may apply. Reply HELP for help, STOP to end.",
        "Flash deal: text STOP to 12345 to unsubscribe",
        "Weekly tips from Acme. Reply STOP.",
        # carrier notices
        "NETWORK MSG: Your account balance is low.",
        "Free Msg: Your bill is ready to view.",
        "AT&T Free Msg: You have used 75% of your data.",
        # verification codes
        "Your code is 123456",
        "Your Acme verification code is 482913. Don't share it.",
        "G-482913 is your Google verification code.",
        "482913 is your login code",
        "Use one-time passcode 4829 to sign in",
    ],
)
def test_automated_texts(text: str) -> None:
    assert looks_automated(text)


@pytest.mark.parametrize(
    "text",
    [
        "can you stop by tomorrow?",
        "I'll be away next week, can we talk now?",
        "Hi, are you around? Need to reschedule.",
        "Please reply when you can",
        "What's the door code?",
        "Your code is ready for review, take a look",
        "Did you get the reply I sent?",
        "Stop by the office at 3",
        "Auto repair shop says the car is ready",
        "Don't forget the data rates discussion on Monday",
        "I'm away from my desk, call me",
        "Are you out of the office this week?",
        "Thanks for the message!",
        "",
    ],
)
def test_human_texts(text: str) -> None:
    assert not looks_automated(text)
