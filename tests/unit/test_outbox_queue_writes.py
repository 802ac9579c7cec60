"""The outbox queue's writes under concurrent sends: one transaction at a time, the writes that
wait meanwhile committed together (group commit), a claim that exactly one of two claimants gets,
and the counterpart's consent read in the claim's own transaction."""

from __future__ import annotations

import asyncio
from typing import Any

from outbox_kit import queue_reply, state
from pipeline_fakes import EXT, envelope
from sqlalchemy import event

from rcinbox.events import InboundMessage
from rcinbox.store import DecisionRecord, Store


def counterpart(n: int) -> str:
    return f"+1415555{n:04d}"


def count_commits(store: Store) -> list[int]:
    commits: list[int] = []

    def committed(*_: Any) -> None:
        commits.append(1)

    event.listen(store.engine.sync_engine, "commit", committed)
    return commits


async def test_outcomes_of_concurrent_sends_are_committed_together(store: Store) -> None:
    rows = [await queue_reply(store, str(n), to=counterpart(n)) for n in range(16)]
    claims = await store.outbox.claim_many([row.id for row in rows])
    commits = count_commits(store)
    await asyncio.gather(*(store.outbox.mark_sent(row.id, f"90{row.id}") for row in rows))
    assert len(claims) == 16
    assert [await state(store, row) for row in rows] == [("sent", 1, f"90{row.id}", None) for row in rows]
    assert [(await store.message(row.message_pk)).state for row in rows] == ["done"] * 16
    assert len(commits) <= 2  # the first alone, the fifteen that waited for it in one more


async def test_of_two_concurrent_claims_each_row_goes_to_exactly_one(store: Store) -> None:
    rows = [await queue_reply(store, str(n), to=counterpart(n)) for n in range(10)]
    ids = [row.id for row in rows]
    first, second = await asyncio.gather(store.outbox.claim_many(ids), store.outbox.claim_many(ids[3:]))
    claimed = [claim.row.id for claim in (*first, *second)]
    assert sorted(claimed) == ids
    assert all(not claim.reconcile and claim.row.attempts == 1 for claim in (*first, *second))
    assert await store.outbox.claim_many(ids) == []  # in flight: nobody else's now


async def test_a_claim_reads_the_counterparts_consent_in_its_transaction(store: Store) -> None:
    stopped, fine = (
        await queue_reply(store, "1", to=counterpart(1)),
        await queue_reply(store, "2", to=counterpart(2)),
    )
    stop = InboundMessage.from_notification(
        envelope(message_id="3", text="STOP", sender=counterpart(1)), "sync"
    )
    await store.accept(stop)
    stored = await store.find_message(EXT, "3")
    assert stored is not None
    await store.conclude(stored.pk, DecisionRecord("opt-out", "opt-out", "vacation", {}))
    claims = {claim.row.id: claim.opted_out for claim in await store.outbox.claim_many([stopped.id, fine.id])}
    assert claims == {stopped.id: True, fine.id: False}
