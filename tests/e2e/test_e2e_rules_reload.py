"""The rules file is re-read while the service runs: switching the vacation on, or adding a number
to the allowlist, takes effect for the next text without a restart."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest
from e2e_kit import ALEX, CHARLIE, STRANGER, WITHIN, Harness, Live, replies, reply_for, rules_toml

from rcinbox.rules.config import Rules


async def reloaded(live: Live, done: Callable[[Rules], bool]) -> None:
    """Until the rules the service uses satisfy ``done``, re-checked after each look at the file."""

    async def installed() -> bool:
        return done(live.service.rules.current())

    await live.service.rules_checked.until(installed, WITHIN)


async def test_switching_the_vacation_on_takes_effect_without_a_restart(e2e: Harness) -> None:
    async with e2e.running(rules_toml(enabled=False)) as live:
        before = await live.outcome(await live.text("Are you in?", sender=CHARLIE))
        e2e.write_rules(rules_toml(enabled=True))
        await reloaded(live, lambda rules: rules.vacation.enabled)
        after = await live.outcome(await live.text("Are you in now?", sender=CHARLIE))
    assert (before.reason, after.reason) == ("vacation-off", "replied")
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]


async def test_a_number_added_to_the_allowlist_counts_as_a_contact_at_once(e2e: Harness) -> None:
    async with e2e.running(rules_toml(audience="contacts")) as live:
        before = await live.outcome(await live.text("Hi Alex", sender=STRANGER))
        e2e.write_rules(rules_toml(audience="contacts", allowlist=[STRANGER]))
        await reloaded(live, lambda rules: STRANGER in rules.contacts.allowlist)
        after = await live.outcome(await live.text("Hi again", sender=STRANGER))
    assert (before.reason, after.reason) == ("not-a-contact", "replied")
    assert await replies(e2e.http, STRANGER) == [(ALEX, reply_for(None))]


async def test_a_broken_edit_keeps_the_last_good_rules(e2e: Harness) -> None:
    async with e2e.running(rules_toml()) as live:
        good = live.service.rules.current()
        e2e.write_rules(rules_toml(audience="friends"))  # invalid: refused with its line
        await rejected(live)
        outcome = await live.outcome(await live.text("Are you in?", sender=CHARLIE))
        error = live.service.rules.last_error
    assert live.service.rules.current() is good
    assert error is not None and (error.line, "audience" in error.reason) == (8, True)
    assert outcome.reason == "replied"
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]


async def rejected(live: Live) -> None:
    """As :func:`reloaded`: until the watcher has refused the edit."""

    async def refused() -> bool:
        return live.service.rules.last_error is not None

    await live.service.rules_checked.until(refused, WITHIN)


async def test_one_edit_logs_rules_reloaded_once(
    e2e: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger("rcinbox"), "propagate", True)  # even after logs.setup()
    caplog.set_level(logging.INFO, logger="rcinbox")
    async with e2e.running(rules_toml(enabled=False)) as live:
        e2e.write_rules(rules_toml(enabled=True))
        await reloaded(live, lambda rules: rules.vacation.enabled)
        checks = live.service.rules_checked.count
        await live.service.rules_checked.until(_after(live, checks + 2), WITHIN)  # two more looks
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("rcinbox")]
    assert [line for line in lines if "rules reloaded" in line] == [f"rules reloaded from {e2e.rules_path}"]


def _after(live: Live, count: int) -> Callable[[], Awaitable[bool]]:
    async def reached() -> bool:
        return live.service.rules_checked.count >= count

    return reached


async def test_an_edited_message_reaches_a_sender_who_already_got_the_old_one(e2e: Harness) -> None:
    """Repeat tracking is per sender *and* per message (Sieve's ``:handle``): a new text is news."""
    edited = "Auto-reply: Hi {first_name}, I'm back on Monday, January 4."
    async with e2e.running(rules_toml()) as live:
        first = await live.outcome(await live.text("Are you in?", sender=CHARLIE))
        repeat = await live.outcome(await live.text("Hello?", sender=CHARLIE))
        e2e.write_rules(rules_toml(message=edited))
        await reloaded(live, lambda rules: rules.vacation.message == edited)
        after_edit = await live.outcome(await live.text("Still away?", sender=CHARLIE))
        again = await live.outcome(await live.text("Ok thanks", sender=CHARLIE))
    assert [first.reason, repeat.reason, after_edit.reason, again.reason] == [
        "replied",
        "already-replied",
        "replied",
        "already-replied",
    ]
    assert await replies(e2e.http, CHARLIE) == [
        (ALEX, reply_for("Charlie")),
        (ALEX, "Auto-reply: Hi Charlie, I'm back on Monday, January 4."),
    ]
