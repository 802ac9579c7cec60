"""``drain_lanes`` (service/lanes.py) on plain items: per-key order, at most ``width`` at once, one
at a time while ``narrow()`` says so, each item once per drain, a failure halts it and is raised."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from rcinbox.errors import StoreFull
from rcinbox.service.lanes import drain_lanes

Item = tuple[int, str]  # (position, key)


class Recorder:
    def __init__(self, items: Sequence[Item], page: int = 4) -> None:
        self.items = list(items)
        self.page = page
        self.running = 0
        self.most = 0
        self.order: list[Item] = []
        self.fail_at: int | None = None

    async def due(self, after: Item | None) -> list[Item]:
        start = 0 if after is None else after[0] + 1
        return self.items[start : start + self.page]

    async def handle(self, item: Item) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            for _ in range(3):  # other lanes run meanwhile
                await asyncio.sleep(0)
            if item[0] == self.fail_at:
                raise StoreFull("the disk is full")
            self.order.append(item)
        finally:
            self.running -= 1


def items(count: int, keys: str = "abcd") -> list[Item]:
    return [(i, keys[i % len(keys)]) for i in range(count)]


async def test_each_key_in_order_several_keys_at_once_each_item_once() -> None:
    recorder = Recorder(items(40))
    handled = await drain_lanes(recorder.due, lambda item: item[1], recorder.handle, width=3)
    assert handled == 40 and sorted(recorder.order) == items(40)
    for key in "abcd":
        mine = [i for i, k in recorder.order if k == key]
        assert mine == sorted(mine)
    assert recorder.most == 3


async def test_one_at_a_time_while_narrow() -> None:
    recorder = Recorder(items(20))
    await drain_lanes(recorder.due, lambda item: item[1], recorder.handle, width=8, narrow=lambda: True)
    assert recorder.most == 1 and len(recorder.order) == 20


async def test_a_failure_halts_the_drain_and_is_raised() -> None:
    recorder = Recorder(items(40), page=40)
    recorder.fail_at = 5
    with pytest.raises(StoreFull):
        await drain_lanes(recorder.due, lambda item: item[1], recorder.handle, width=2)
    assert len(recorder.order) < 39  # nothing new started after the failure
    assert recorder.running == 0  # those in progress finished


async def test_one_senders_backlog_leaves_the_free_lanes_to_the_others() -> None:
    recorder = Recorder([*((i, "flood") for i in range(30)), (30, "other")])
    await drain_lanes(recorder.due, lambda item: item[1], recorder.handle, width=2)
    assert recorder.order.index((30, "other")) < 10  # not behind the whole flood
    assert [i for i, k in recorder.order if k == "flood"] == list(range(30))
