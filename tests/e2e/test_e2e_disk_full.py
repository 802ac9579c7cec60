"""The disk under the archive fills up while the service runs (issue 6): a text that arrives then
cannot be stored (the WebSocket client keeps the frame and retries; the WebHook endpoint answers 503
and the platform never sends it again, so the message-sync catch-up fetches it). Once there is room
again the text is archived and answered, once, by the same process: no restart, no operator."""

from __future__ import annotations

import dataclasses

from disk_kit import FullDisk, small_pages
from e2e_kit import ALEX, CHARLIE, DANA, TUNING, WITHIN, Harness, replies, reply_for

from rcinbox.platform.retry import RetryPolicy
from rcinbox.service.catchup import CatchUpPolicy

QUICK_RETRIES = CatchUpPolicy(retry=RetryPolicy(attempts=1, base_delay=0.2, max_delay=1.0, jitter=0))


async def test_texts_that_came_while_the_disk_was_full_are_answered_once_there_is_room(
    e2e: Harness,
) -> None:
    small_pages(e2e.data_dir / "rcinbox.db")  # every text needs new pages: refused while full
    e2e.tuning = dataclasses.replace(TUNING, catchup=QUICK_RETRIES)
    async with e2e.running() as live:
        before = await live.text("Before the disk filled up", sender=DANA)
        assert (await live.outcome(before)).reason == "replied"
        disk = FullDisk(live.store)
        await disk.fill()
        during = await live.text("Anyone there?", sender=CHARLIE)
        if e2e.transport == "webhook":
            await e2e.emu.emulator.webhooks.idle()  # delivered, and answered without being stored
        assert await live.store.find_message(during.extension_id, during.message_id) is None
        await disk.free()
        outcome = await live.outcome(during, within=WITHIN)
        entries = await live.store.recent()
    assert (outcome.reason, outcome.reply and outcome.reply.state) == ("replied", "sent")
    assert await replies(e2e.http, CHARLIE) == [(ALEX, reply_for("Charlie"))]
    assert sorted(e.message_id for e in entries) == sorted([before.message_id, during.message_id])
