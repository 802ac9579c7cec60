"""Several senders on one database (as replicas share one PostgreSQL): claims of the same due
replies at the same moment hand each reply to exactly one sender, on both backends (PostgreSQL
picks rows with ``FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

import asyncio
from collections import Counter

from outbox_kit import queue_reply

from rcinbox.store import Store


async def test_concurrent_claims_from_two_stores_hand_each_reply_to_one(store: Store, store_url: str) -> None:
    rows = [await queue_reply(store, f"m{i}", to=f"+1415555{i:04d}") for i in range(20)]
    ids = [row.id for row in rows]
    async with await Store.open(store_url) as other:
        mine, theirs = await asyncio.gather(
            store.outbox.claim_many(ids), other.outbox.claim_many(list(reversed(ids)))
        )
        singles = await asyncio.gather(*(s.outbox.claim(ids[0]) for s in (store, other, store)))
    claimed = Counter(claim.row.id for claim in [*mine, *theirs])
    assert sorted(claimed) == sorted(ids) and set(claimed.values()) == {1}
    assert singles == [None, None, None]  # already sending: nobody claims it again
