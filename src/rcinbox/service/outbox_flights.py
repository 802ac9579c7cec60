"""The outbox's sends in flight: several per extension at once, one at a time per counterpart.

A reply spends most of its time waiting for the platform (the answer's latency) or for its
extension's rate-limit budget, so the outbox keeps up to :data:`SENDS_IN_FLIGHT` sends of each
extension in flight (each extension sends under its own user's session and budget, so extensions
never hold each other up); the pacer still decides when each request may go. Two rows to the same
counterpart never fly together: they go in the order they became due, and the "did it already go
out?" reconciliation, which matches an outbound text by number and words, never mistakes one for
the other. A row is in flight at most once here (:meth:`Flights.busy` lists them, so the next
batch skips them even when their lease ran out meanwhile) and the database claim keeps other
processes off it.

:class:`Flights` runs each send as a task, calls ``landed`` when one ends (the outbox loop looks
for more work then), and keeps the first failure of a send that raised (the store itself: a full
disk) for the loop to report and back off on.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from rcinbox.store import OutboxRow

SENDS_IN_FLIGHT = 16  # per extension; RingCentral's default budget for sending is 40 a minute


@dataclass(frozen=True)
class Busy:
    """What the next batch of due rows must leave out."""

    ids: frozenset[int]
    extensions: frozenset[str]  # already at their limit of sends in flight
    counterparts: frozenset[str]


class Flights:
    def __init__(
        self, per_extension: int = SENDS_IN_FLIGHT, landed: Callable[[], None] | None = None
    ) -> None:
        if per_extension < 1:
            raise ValueError("per_extension must be at least 1")
        self.per_extension = per_extension
        self._landed = landed
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._extensions: Counter[str] = Counter()
        self._counterparts: set[str] = set()
        self._failure: BaseException | None = None

    def __len__(self) -> int:
        return len(self._tasks)

    def __repr__(self) -> str:
        return f"Flights({len(self._tasks)} in flight, {self.per_extension} per extension)"

    def busy(self) -> Busy:
        full = frozenset(ext for ext, n in self._extensions.items() if n >= self.per_extension)
        return Busy(frozenset(self._tasks), full, frozenset(self._counterparts))

    def can_start(self, row: OutboxRow) -> bool:
        return (
            row.id not in self._tasks
            and row.to_number not in self._counterparts
            and self._extensions[row.extension_id] < self.per_extension
        )

    def choose(self, rows: Iterable[OutboxRow]) -> list[OutboxRow]:
        """Those of ``rows`` (soonest due first) that may all fly now, together."""
        chosen: list[OutboxRow] = []
        counterparts: set[str] = set()
        extensions: Counter[str] = Counter()
        for row in rows:
            if (
                self.can_start(row)
                and row.to_number not in counterparts
                and self._extensions[row.extension_id] + extensions[row.extension_id] < self.per_extension
            ):
                chosen.append(row)
                counterparts.add(row.to_number)
                extensions[row.extension_id] += 1
        return chosen

    def start(self, row: OutboxRow, send: Callable[[], Awaitable[None]]) -> bool:
        """Run ``send()`` for ``row`` as a task if it may fly now; ``False`` if not."""
        if not self.can_start(row):
            return False

        async def fly() -> None:
            await send()

        task = asyncio.create_task(fly(), name=f"rcinbox.outbox.{row.id}")
        self._tasks[row.id] = task
        self._extensions[row.extension_id] += 1
        self._counterparts.add(row.to_number)
        task.add_done_callback(lambda done: self._land(row, done))
        return True

    def _land(self, row: OutboxRow, task: asyncio.Task[None]) -> None:
        del self._tasks[row.id]
        self._extensions[row.extension_id] -= 1
        if not self._extensions[row.extension_id]:
            del self._extensions[row.extension_id]
        self._counterparts.discard(row.to_number)
        if not task.cancelled() and task.exception() is not None and self._failure is None:
            self._failure = task.exception()
        if self._landed is not None:
            self._landed()

    def take_failure(self) -> BaseException | None:
        """The first exception a send raised since the last call (``None``: none did)."""
        failure, self._failure = self._failure, None
        return failure

    async def any_landed(self) -> None:
        """Return when at least one send in flight has ended (at once when none is in flight)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()), return_when=asyncio.FIRST_COMPLETED)

    def cancel(self) -> None:
        """Cancel every send in flight (a claimed row stays ``sending``: reconciled before its
        next attempt)."""
        for task in self._tasks.values():
            task.cancel()

    async def settle(self) -> None:
        """Wait for every send in flight to end (when the outbox stops)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks.values()))
