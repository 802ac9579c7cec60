"""Rules per extension, end to end: a super admin receives for Alex (ext 101) and Blair (ext 102),
each away with their own vacation (``[extensions."<id>".vacation]`` over the file's defaults, which
are off). One contact texts both and gets each user's own reply from that user's number; a repeat
to Blair is ``already-replied``; an edit of Blair's section is picked up without a restart."""

from __future__ import annotations

from e2e_kit import ALEX, ALEX_EXT, BLAIR, BLAIR_EXT, CHARLIE, WITHIN, Harness, Live, replies, rules_toml

from rcinbox.rules.config import Rules

BOTH = f"{ALEX_EXT},{BLAIR_EXT}"
ALEX_SAYS = "Auto-reply: Hi {first_name}, Alex is away until {return_date}."
BLAIR_SAYS = "Auto-reply: Hi {first_name}, Blair is back {return_date}. Urgent: {backup_number}."
BLAIR_BACKUP = "+16505550177"


def per_user_rules(blair_says: str = BLAIR_SAYS) -> str:
    """The file's vacation off; Alex's and Blair's on, each with its own message (Blair's with its
    own end and backup number)."""
    return rules_toml(enabled=False) + (
        f'[extensions."{ALEX_EXT}".vacation]\n'
        "enabled = true\n"
        f'message = "{ALEX_SAYS}"\n'
        f'[extensions."{BLAIR_EXT}".vacation]\n'
        "enabled = true\n"
        "end = 2027-01-11T08:00:00\n"
        f'message = "{blair_says}"\n'
        f'[extensions."{BLAIR_EXT}".vacation.values]\n'
        f'backup_number = "{BLAIR_BACKUP}"\n'
    )


def blair_sender(e2e: Harness) -> str:
    return f"{BLAIR_EXT}={e2e.emu.world.extension(int(BLAIR_EXT)).jwt}"


async def reloaded(live: Live, done: str) -> None:
    async def installed() -> bool:
        rules: Rules = live.service.rules.current()
        return rules.for_extension(BLAIR_EXT).vacation.message == done

    await live.service.rules_checked.until(installed, WITHIN)


async def test_one_contact_texting_two_away_users_gets_each_users_own_reply(e2e: Harness) -> None:
    async with e2e.running(
        per_user_rules(), RCINBOX_EXTENSIONS=BOTH, RCINBOX_SENDER_JWTS=blair_sender(e2e)
    ) as live:
        to_alex = await live.outcome(await live.text("Hi Alex", sender=CHARLIE, to=ALEX))
        to_blair = await live.outcome(await live.text("Hi Blair", sender=CHARLIE, to=BLAIR))
        again = await live.outcome(await live.text("Blair, are you there?", sender=CHARLIE, to=BLAIR))
        edited = "Auto-reply: Blair is away until {return_date}, reachable at {backup_number}."
        e2e.write_rules(per_user_rules(edited))
        await reloaded(live, edited)
        after_edit = await live.outcome(await live.text("Blair?", sender=CHARLIE, to=BLAIR))
    assert (to_alex.reason, to_blair.reason, again.reason) == ("replied", "replied", "already-replied")
    assert after_edit.reason == "replied"  # a new message is a new response: Blair's own, edited
    assert to_alex.reply is not None and to_alex.reply.state == "sent"
    assert to_blair.reply is not None and to_blair.reply.state == "sent"
    assert await replies(e2e.http, CHARLIE) == [
        (ALEX, "Auto-reply: Hi Charlie, Alex is away until Monday, January 4."),
        (BLAIR, f"Auto-reply: Hi Charlie, Blair is back Monday, January 11. Urgent: {BLAIR_BACKUP}."),
        (BLAIR, f"Auto-reply: Blair is away until Monday, January 11, reachable at {BLAIR_BACKUP}."),
    ]
