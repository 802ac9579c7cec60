"""The writing turn (store/turns.py): one writer at a time, first come first served, the urgent
ones (the intake) before the others; a writer that gives up while waiting never blocks the rest."""

from __future__ import annotations

import asyncio

from rcinbox.store.turns import WriterTurn


async def test_one_at_a_time_in_order_urgent_first() -> None:
    turn = WriterTurn()
    order: list[str] = []
    release = asyncio.Event()

    async def write(name: str, urgent: bool = False) -> None:
        async with turn.held(urgent=urgent):
            order.append(name)
            if name == "first":
                await release.wait()

    first = asyncio.create_task(write("first"))
    await asyncio.sleep(0)  # first holds the turn
    others = [
        asyncio.create_task(write("decide-1")),
        asyncio.create_task(write("decide-2")),
        asyncio.create_task(write("intake", urgent=True)),
        asyncio.create_task(write("decide-3")),
    ]
    await asyncio.sleep(0)  # all of them queued
    assert order == ["first"] and turn.busy
    release.set()
    await asyncio.gather(first, *others)
    assert order == ["first", "intake", "decide-1", "decide-2", "decide-3"]
    assert not turn.busy


async def test_a_writer_cancelled_while_waiting_or_just_handed_the_turn_passes_it_on() -> None:
    turn = WriterTurn()
    release = asyncio.Event()
    done: list[str] = []
    tasks: dict[str, asyncio.Task[None]] = {}

    async def write(name: str) -> None:
        async with turn.held():
            if name == "holder":
                await release.wait()
            done.append(name)
        if name == "holder":  # the turn was just handed to "handed", which has not run yet
            tasks["handed"].cancel()

    for name in ("holder", "quitter", "handed", "last"):
        tasks[name] = asyncio.create_task(write(name))
        await asyncio.sleep(0)
    quitter, handed, last = tasks["quitter"], tasks["handed"], tasks["last"]
    quitter.cancel()  # gives up while waiting
    release.set()
    await asyncio.wait_for(last, 5)
    assert done == ["holder", "last"]
    assert quitter.cancelled() and handed.cancelled() and not turn.busy
