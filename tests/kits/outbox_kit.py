"""Replies queued in the outbox for its tests: ``queue_reply`` archives an inbound text and
concludes it with a reply, ``state`` reads a reply's row back, ``run_until`` runs the outbox's loop
until a reply reaches a state; ``FAST`` retries in milliseconds."""

from __future__ import annotations

import asyncio

from pipeline_fakes import CHARLIE, EXT, OWNER, envelope

from rcinbox.events import InboundMessage
from rcinbox.platform.retry import RetryPolicy
from rcinbox.service.outbox import Outbox, OutboxOptions
from rcinbox.store import DecisionRecord, OutboxRow, Store

FAST = OutboxOptions(retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, jitter=0))
TEXT = "Hi Charlie, I'm away. Back soon."


async def queue_reply(
    store: Store, message_id: str, *, to: str = CHARLIE, from_: str = OWNER, ext: str = EXT, text: str = TEXT
) -> OutboxRow:
    msg = InboundMessage.from_notification(
        envelope(message_id=message_id, sender=to, ext=ext, to=(from_,)), "sync"
    )
    assert await store.accept(msg)
    stored = await store.find_message(ext, message_id)
    assert stored is not None
    decision = DecisionRecord(
        "reply", "replied", "vacation", {}, reply_text=text, reply_from=from_, reply_to=to
    )
    assert await store.conclude(stored.pk, decision)
    row = await store.outbox.for_message(stored.pk)
    assert row is not None
    return row


async def state(store: Store, row: OutboxRow) -> tuple[str, int, str | None, str | None]:
    now = await store.outbox.get(row.id)
    assert now is not None
    return now.state, now.attempts, now.platform_message_id, now.last_error


async def run_until(outbox: Outbox, store: Store, row: OutboxRow, reached: str) -> None:
    """Run the outbox's loop until ``row`` is in state ``reached``, then stop it."""

    async def there() -> bool:
        return (await state(store, row))[0] == reached

    stop = asyncio.Event()
    worker = asyncio.create_task(outbox.run(stop))
    try:
        await outbox.changes.until(there, 5)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 2)
