"""A broadcast "something changed" signal: whoever watches the emulator in-process (tests, the demo)
waits on it instead of polling the control API.

The emulator keeps its own (it never imports the service it stands in for); it is the same idea as
the service's ``rcinbox.waiting.Changes``, with a plain condition since everything here is in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Changes:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.count = 0

    def notify(self) -> None:
        """Wake every waiter; each re-checks its condition."""
        self.count += 1
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def until(self, condition: Callable[[], bool], within: float) -> None:
        """Return once ``condition()`` is true, re-checking after every change; ``TimeoutError``
        after ``within`` seconds."""
        async with asyncio.timeout(within):
            while True:
                event = self._event  # taken before the check: a change during it is not missed
                if condition():
                    return
                await event.wait()
