"""Work through what is due several items at a time, one after another per key.

:func:`drain_lanes` is the pipeline's drain: each due message goes into its sender's lane (a queue
per key, in arrival order), and up to ``width`` lanes run at once. Messages from one sender are
therefore decided strictly one after another, in order, so each decision sees the one before it
(the reply it queued, the opt-out it recorded); different senders' messages are decided side by
side, so a slow one (a platform call, a retry) does not hold up the others. While ``narrow()`` says so
(the pipeline: while transports wait for the intake to store what they received), the lanes go one
at a time, leaving the event loop to the acknowledgements, which have a deadline; decisions have none.

Items are read in pages, oldest first, each page after the last item already taken (``due(after)``),
so every item is handled at most once per drain; the drain ends when nothing more is due and every
lane is empty. A handler that raises (the store itself failed: a full disk) halts the drain: no lane
starts another item, those in progress finish, and the error is raised.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Generic, TypeVar

from rcinbox.waiting import wait_any

T = TypeVar("T")
HELD = 1000  # items read and waiting in the lanes at most (a backlog stays in the store)


class _Lanes(Generic[T]):
    def __init__(
        self,
        handle: Callable[[T], Awaitable[None]],
        width: int,
        stop: asyncio.Event | None,
        narrow: Callable[[], bool] | None = None,
    ) -> None:
        self.handle = handle
        self.slots = asyncio.Semaphore(width)
        self.narrow = narrow
        self.single = asyncio.Lock()  # the one lane that may go on while ``narrow()`` says so
        self.stop = stop
        self.queues: dict[Hashable, deque[T]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.waiting = 0  # items taken but not yet finished
        self.started = 0
        self.failure: Exception | None = None
        self.progress = asyncio.Event()  # set when an item finished

    def add(self, key: Hashable, item: T) -> None:
        self.waiting += 1
        queue = self.queues.get(key)
        if queue is not None:  # the lane is running: the item waits its turn behind the others
            queue.append(item)
            return
        self.queues[key] = deque([item])
        task = asyncio.create_task(self._run(key), name="rcinbox.lane")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def halted(self) -> bool:
        return self.failure is not None or (self.stop is not None and self.stop.is_set())

    async def _run(self, key: Hashable) -> None:
        queue = self.queues[key]
        try:
            while queue and not self.halted():
                async with self.slots, self._alone_if_narrow():
                    if self.halted():
                        break
                    self.started += 1
                    try:
                        await self.handle(queue[0])
                    except Exception as exc:  # the store itself: halt the drain, raise it at the end
                        self.failure = self.failure or exc
                    finally:
                        queue.popleft()
                        self.waiting -= 1
                        self.progress.set()
        finally:
            self.waiting -= len(queue)  # halted: the rest is left for the next drain
            del self.queues[key]
            self.progress.set()

    def _alone_if_narrow(self) -> AbstractAsyncContextManager[object]:
        return self.single if self.narrow is not None and self.narrow() else nullcontext()

    async def until_room(self, width: int) -> None:
        """Wait until fewer than ``width`` lanes run and fewer than :data:`HELD` items wait: one
        sender's backlog does not keep the next page (other senders) out of the free lanes."""
        while (len(self.queues) >= width or self.waiting >= HELD) and self.tasks:
            self.progress.clear()
            await wait_any(self.progress)

    async def until_fewer_than(self, count: int, arrivals: asyncio.Event | None = None) -> None:
        """Wait until fewer than ``count`` items are waiting (or ``arrivals`` is set)."""
        while self.waiting >= count and self.tasks:
            self.progress.clear()
            events = [self.progress] if arrivals is None else [self.progress, arrivals]
            await wait_any(*events)
            if arrivals is not None and arrivals.is_set():
                return

    async def close(self) -> None:
        """Wait for every lane (cancelled ones too, when the drain itself is cancelled)."""
        if self.tasks:
            await asyncio.wait(list(self.tasks))


async def drain_lanes(
    due: Callable[[T | None], Awaitable[Sequence[T]]],
    key: Callable[[T], Hashable],
    handle: Callable[[T], Awaitable[None]],
    *,
    width: int,
    stop: asyncio.Event | None = None,
    arrivals: asyncio.Event | None = None,
    narrow: Callable[[], bool] | None = None,
) -> int:
    """Handle what ``due(after)`` lists (oldest first, after the item ``after``; ``None``: from the
    start), up to ``width`` items at once, one at a time per ``key``; returns how many were handled.
    ``arrivals`` (cleared here before each read) says new items may have come: the next page is
    read then instead of only when a lane has room. While ``narrow()`` is true, an item starts only
    when no other item that started meanwhile is running: one at a time."""
    lanes: _Lanes[T] = _Lanes(handle, width, stop, narrow)
    last: T | None = None
    try:
        while not lanes.halted():
            if arrivals is not None:
                arrivals.clear()
            page = await due(last)
            for item in page:
                lanes.add(key(item), item)
            if page:
                last = page[-1]
                await lanes.until_room(width)  # a lane free for the next page's senders
            elif lanes.waiting:
                await lanes.until_fewer_than(1, arrivals)  # all done, or something new came
            else:
                break
    except BaseException:
        for task in lanes.tasks:
            task.cancel()
        raise
    finally:
        await lanes.close()
    if lanes.failure is not None:
        raise lanes.failure
    return lanes.started
