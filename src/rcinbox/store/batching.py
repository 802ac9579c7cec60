"""Group commit: many concurrent callers, one writer task, few transactions.

A :class:`GroupCommit` queues each caller's item and wakes its writer task, which takes
everything queued (up to ``max_batch``) and writes it with :meth:`GroupCommit.write` (one
transaction); whatever arrives meanwhile forms the next batch. No timer and no waiting for
company: a lone item is written at once, and under load the batches grow by themselves. Each
caller waits for its own outcome, so nothing is reported done before its transaction committed.
:mod:`rcinbox.store.intake` (accepting messages) and :mod:`rcinbox.store.conclusions` (recording
decisions) are the two.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from typing import Generic, TypeVar

from rcinbox.errors import StoreError

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Waiting(Generic[Item, Result]):
    __slots__ = ("future", "item")

    def __init__(self, item: Item, future: asyncio.Future[Result]) -> None:
        self.item = item
        self.future = future

    def settle(self, outcome: Result | Exception) -> None:
        if self.future.done():  # the caller gave up waiting (cancelled): nothing to tell
            return
        if isinstance(outcome, Exception):
            self.future.set_exception(_own_copy(outcome))
        else:
            self.future.set_result(outcome)


class GroupCommit(Generic[Item, Result]):
    """Items written in batches by a single writer task; subclasses say how (:meth:`write`)."""

    name = "batch"

    def __init__(self, max_batch: int) -> None:
        self.max_batch = max_batch
        self.transactions = 0  # batches written (what tests and the curious look at)
        self._queue: list[_Waiting[Item, Result]] = []
        self._writer: asyncio.Task[None] | None = None
        self._writing = 0  # items of the batch being written

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self._queue)} waiting, {self.transactions} batches)"

    @property
    def waiting(self) -> int:
        """How many callers wait for their outcome (their items queued or being written)."""
        return len(self._queue) + self._writing

    async def submit(self, item: Item) -> Result:
        """Queue ``item`` and wait for its outcome (raised when it is an error)."""
        waiting: _Waiting[Item, Result] = _Waiting(item, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name=f"rcinbox.store.{self.name}")
        return await waiting.future

    async def close(self) -> None:
        """Let the writer finish what is queued."""
        if self._writer is not None:
            await asyncio.wait([self._writer])

    async def write(self, items: Sequence[Item]) -> Sequence[Result | Exception]:
        """Write ``items`` (one transaction, as far as they allow); one outcome per item, in order."""
        raise NotImplementedError

    async def _write_all(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            self._writing = len(batch)
            try:
                outcomes = await self.write([waiting.item for waiting in batch])
            except BaseException as exc:  # cancelled, or a bug: no caller may wait forever
                failure = exc if isinstance(exc, Exception) else StoreError(f"the {self.name} was stopped")
                for waiting in [*batch, *self._queue]:
                    waiting.settle(failure)
                self._queue = []
                raise
            finally:
                self._writing = 0
            for waiting, outcome in zip(batch, outcomes, strict=True):
                waiting.settle(outcome)


def _own_copy(exc: Exception) -> Exception:
    """The same error for each caller, as its own instance (one raised in many tasks would gather
    every task's traceback), chained to the original."""
    mine = copy.copy(exc)
    mine.__cause__, mine.__traceback__ = exc, None
    return mine
