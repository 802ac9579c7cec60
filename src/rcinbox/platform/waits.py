"""The waits for RingCentral's budget now in progress: visible, and cut short when rcinbox stops.

A request that must wait before it goes (its throttling group is out of budget, paused after a
429, or the request backs off before its next try) registers the wait here while it lasts.
:meth:`Waits.current` is what ``/readyz`` shows under ``waits``; :meth:`Waits.interrupt` (at
Ctrl-C/SIGTERM) cancels every task waiting now, and any that starts waiting afterwards. Nothing is
in flight during such a wait, so cutting it short loses nothing: the request was not sent.

One :class:`Waits` is shared by every :class:`~rcinbox.platform.pacing.Pacer` of a process (the
main session's and each sender's), so the service sees and stops them all in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class Wait:
    """One request waiting: for which throttling ``group``, until when (``clock`` time; ``inf``
    while it waits for answers to requests in flight), and why, in words."""

    group: str
    request: str  # "POST /restapi/oauth/wstoken", or "" when not known
    reason: str
    until: float
    clock: Callable[[], float]
    shown: bool = False  # in current(): a wait longer than a second (shorter ones come and go)

    def remaining(self) -> float:
        return max(self.until - self.clock(), 0.0)

    def describe(self) -> dict[str, Any]:
        left = self.remaining()
        seconds = None if math.isinf(left) else round(left, 1)
        return {"group": self.group, "request": self.request, "seconds": seconds, "reason": self.reason}


class Waits:
    def __init__(self) -> None:
        self._waits: dict[asyncio.Task[Any], Wait] = {}
        self._interrupted = False

    def __repr__(self) -> str:
        return f"Waits({len(self._waits)} waiting, interrupted={self._interrupted})"

    @contextlib.contextmanager
    def waiting(self, wait: Wait) -> Iterator[Wait]:
        """Register the current task's ``wait`` for the block (its fields may change meanwhile).
        After :meth:`interrupt`, the block's first await raises ``CancelledError``."""
        task = asyncio.current_task()
        if task is None:  # not in a task: nothing to show or cancel
            yield wait
            return
        if self._interrupted:
            task.cancel()
        self._waits[task] = wait
        try:
            yield wait
        finally:
            if self._waits.get(task) is wait:
                del self._waits[task]

    def current(self) -> list[dict[str, Any]]:
        """The waits in progress longer than a second, longest first."""
        waits = sorted((w for w in self._waits.values() if w.shown), key=Wait.remaining, reverse=True)
        return [wait.describe() for wait in waits]

    def interrupt(self) -> None:
        """Stop: cancel every task waiting now, and every one that starts waiting from now on."""
        self._interrupted = True
        for task in list(self._waits):
            task.cancel()
