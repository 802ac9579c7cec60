"""A super admin receiving for two extensions (``RCINBOX_EXTENSIONS`` = ext 101 and ext 102) over
one subscription: each extension's messages archived under it, answered from the number that was
texted (ext 102's replies sent with ext 102's own credential, ``RCINBOX_SENDER_JWTS``: nobody may
send for another user), personalised from that extension's own address book; a colleague's number
is a company number, never answered."""

from __future__ import annotations

from e2e_kit import ALEX, ALEX_EXT, BLAIR, BLAIR_EXT, CHARLIE, FRANKIE, Harness, outbound, replies, reply_for

BOTH = f"{ALEX_EXT},{BLAIR_EXT}"


def blair_sender(e2e: Harness) -> str:
    return f"{BLAIR_EXT}={e2e.emu.world.extension(int(BLAIR_EXT)).jwt}"


async def test_both_extensions_are_archived_and_answered_from_the_right_number(e2e: Harness) -> None:
    async with e2e.running(RCINBOX_EXTENSIONS=BOTH, RCINBOX_SENDER_JWTS=blair_sender(e2e)) as live:
        to_alex = await live.text("Hi Alex", sender=CHARLIE, to=ALEX)
        to_blair = await live.text("Hi Blair", sender=FRANKIE, to=BLAIR)
        alex, blair = await live.outcome(to_alex), await live.outcome(to_blair)
        entries = await live.store.recent()
    assert (to_alex.extension_id, to_blair.extension_id) == (ALEX_EXT, BLAIR_EXT)
    assert (alex.reason, blair.reason) == ("replied", "replied")
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]
    assert await replies(e2e.http, FRANKIE) == [(BLAIR, reply_for("Frankie"))]
    assert sorted(r["extensionId"] for r in await outbound(e2e.http)) == sorted(
        [int(ALEX_EXT), int(BLAIR_EXT)]
    )
    archived = {(e.extension_id, e.sender, e.receiving_number, e.text) for e in entries}
    assert archived == {(ALEX_EXT, CHARLIE, ALEX, "Hi Alex"), (BLAIR_EXT, FRANKIE, BLAIR, "Hi Blair")}
    [subscription] = e2e.emu.world.subscriptions.values()
    assert sorted(subscription.event_filters) == sorted(
        f"/restapi/v1.0/account/{e2e.emu.world.account_id}/extension/{ext}/message-store/instant?type=SMS"
        for ext in (ALEX_EXT, BLAIR_EXT)
    )


async def test_without_ext_102s_own_credential_its_messages_are_archived_but_not_answered(
    e2e: Harness,
) -> None:
    async with e2e.running(RCINBOX_EXTENSIONS=BOTH) as live:
        to_blair = await live.outcome(await live.text("Hi Blair", sender=FRANKIE, to=BLAIR))
        to_alex = await live.outcome(await live.text("Hi Alex", sender=CHARLIE, to=ALEX))
        [blairs] = [e for e in await live.store.recent() if e.extension_id == BLAIR_EXT]
    assert (to_blair.action, to_blair.reason, to_alex.reason) == (
        "suppress",
        "no-sender-credential",
        "replied",
    )
    assert (blairs.sender, blairs.text) == (FRANKIE, "Hi Blair")
    assert await replies(e2e.http, FRANKIE) == []
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]


async def test_each_extension_has_its_own_address_book_and_colleagues_are_company_numbers(
    e2e: Harness,
) -> None:
    async with e2e.running(RCINBOX_EXTENSIONS=BOTH, RCINBOX_SENDER_JWTS=blair_sender(e2e)) as live:
        reasons = await live.reasons(
            await live.text("Hi Alex", sender=FRANKIE, to=ALEX),  # Blair's contact, not Alex's
            await live.text("Lunch?", sender=BLAIR, to=ALEX),  # a colleague
            await live.text("Lunch!", sender=ALEX, to=BLAIR),
        )
    assert reasons == ["not-a-contact", "company-number", "company-number"]
    assert await outbound(e2e.http) == []
