"""Losing the line: the WebSocket dropped (session recovery or re-subscription) or the WebHook
subscription blacklisted (re-created) right before a text arrives; the text is still archived
and answered exactly once."""

from __future__ import annotations

from e2e_kit import ALEX, CHARLIE, Harness, replies, reply_for


async def test_a_text_sent_while_the_line_is_down_is_answered_once(e2e: Harness) -> None:
    fault = {"dropWebSockets": True} if e2e.transport == "websocket" else {"blacklistWebhooks": True}
    async with e2e.running() as live:
        before = live.service.board.status
        await e2e.faults(fault)
        sent = await live.text("Did you get this?", sender=CHARLIE)
        outcome = await live.outcome(sent)
        after = await live.service.board.wait_until(lambda s: s.ready)
        entries = await live.store.recent()
    assert outcome.reason == "replied"
    assert [e.message_id for e in entries] == [sent.message_id]
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]
    if e2e.transport == "webhook":  # a new subscription replaced the blacklisted one
        assert after.subscription_id != before.subscription_id
        subscriptions = {s.id: s.status for s in e2e.emu.world.subscriptions.values()}
        assert subscriptions.get(str(after.subscription_id)) == "Active"
        assert list(subscriptions.values()).count("Active") == 1
