"""Storing what a WebSocket connection received, several messages at once, in order.

The reader hands each notification to :meth:`Storing.put` and reads on; :meth:`Storing.run` takes
everything received meanwhile and hands it to the sink at once (the store commits them together),
so a burst is not stored one round trip at a time. A message counts as handled (its ``done``
callback: the session's recovery point, the status) only once it is stored. When the sink refuses
one, it and every one after it are delivered again one by one, in order, each until it is stored
(one already stored is a duplicate then, which the sink drops): the frames after a refused one
are never handled before it. :meth:`Storing.settle` waits until everything put was handled, so a
dropped connection is reconnected only after what it delivered is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from rcinbox.events import InboundMessage
from rcinbox.transports import Sink

QUEUED = 1024  # received, not yet stored: beyond this the reader waits (and the socket buffers)

Done = Callable[[], None]


class Storing:
    def __init__(
        self, sink: Sink, deliver: Callable[[InboundMessage], Awaitable[None]], lost: Callable[[], None]
    ) -> None:
        """``deliver``: one message, retried until it is stored; ``lost``: received messages were
        dropped unstored (:meth:`run` was cancelled with some still queued)."""
        self._sink = sink
        self._deliver = deliver
        self._lost = lost
        self._queue: asyncio.Queue[tuple[InboundMessage, Done]] = asyncio.Queue(QUEUED)

    async def put(self, message: InboundMessage, done: Done) -> None:
        await self._queue.put((message, done))

    async def settle(self, runner: asyncio.Task[None]) -> None:
        """Wait until everything put was handled, or ``runner`` (the task of :meth:`run`) ended."""
        if runner.done():
            return
        settled = asyncio.ensure_future(self._queue.join())
        try:
            await asyncio.wait([settled, runner], return_when=asyncio.FIRST_COMPLETED)
        finally:
            settled.cancel()

    async def run(self) -> None:
        """Store what comes, a group at a time, until cancelled."""
        try:
            while True:
                group = [await self._queue.get()]
                while not self._queue.empty():
                    group.append(self._queue.get_nowait())
                try:
                    await self._store(group)
                finally:
                    for _ in group:
                        self._queue.task_done()
        finally:
            self._drop_queued()

    def _drop_queued(self) -> None:
        dropped = 0
        while not self._queue.empty():
            self._queue.get_nowait()
            self._queue.task_done()
            dropped += 1
        if dropped:
            self._lost()

    async def _store(self, group: list[tuple[InboundMessage, Done]]) -> None:
        outcomes = await asyncio.gather(*(self._sink.accept(m) for m, _ in group), return_exceptions=True)
        first_refused = next((i for i, o in enumerate(outcomes) if isinstance(o, BaseException)), None)
        for i, (message, done) in enumerate(group):
            if first_refused is not None and i >= first_refused:
                await self._deliver(message)
            done()
