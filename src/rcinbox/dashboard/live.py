"""What the status page shows live: the pipeline's moments (a text archived, decided, answered),
published in-process and streamed to each open page over server-sent events.

:meth:`Publisher.publish` is what the pipeline and the outbox call: synchronous, never blocks and
never fails. Each subscriber (one open ``/events`` stream) has a bounded queue; when a slow or
stalled client lets it fill, the oldest entry is dropped (and counted), so a client can never hold
the pipeline up or grow memory. :meth:`Publisher.close` ends every stream (at stop). The last
:data:`RECENT` activities are kept for a page that opens later.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from rcinbox.waiting import Changes

ActivityKind = Literal["received", "decided", "answered", "caught-up"]
QUEUE_SIZE = 100  # activities a client may fall behind before the oldest are dropped
RECENT = 20
MAX_SUBSCRIBERS = 32


@dataclass(frozen=True)
class Activity:
    kind: ActivityKind
    extension_id: str
    at: datetime
    counterpart: str = ""  # the other phone number
    text: str = ""  # the text received or sent (the owner's own dashboard: not a secret)
    detail: str = ""  # e.g. "reply (vacation)"

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}


Notice = Callable[[Activity], None]  # what the pipeline and the outbox call (Publisher.publish)


def ignore(activity: Activity) -> None:
    """The notice of a pipeline without a dashboard (tests, the demo's own wiring)."""


class Subscriber:
    def __init__(self, size: int) -> None:
        self.queue: deque[Activity] = deque(maxlen=size)
        self.dropped = 0
        self.ready = asyncio.Event()
        self.closed = False

    def put(self, activity: Activity) -> None:
        if len(self.queue) == self.queue.maxlen:
            self.dropped += 1  # deque(maxlen) drops the oldest itself
        self.queue.append(activity)
        self.ready.set()

    async def next(self, within: float) -> Activity | None:
        """The next activity, or ``None`` after ``within`` seconds (a keep-alive is due) or when closed."""
        if not self.queue and not self.closed:
            self.ready.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    await self.ready.wait()
        return self.queue.popleft() if self.queue else None


class TooManySubscribers(Exception):
    pass


class Publisher:
    def __init__(self, queue_size: int = QUEUE_SIZE, max_subscribers: int = MAX_SUBSCRIBERS) -> None:
        self.queue_size = queue_size
        self.max_subscribers = max_subscribers
        self.recent: deque[Activity] = deque(maxlen=RECENT)
        self._subscribers: set[Subscriber] = set()
        self.closed = False
        self.changes = Changes()  # a subscriber came or went (tests wait on it)

    def __repr__(self) -> str:
        return f"Publisher({len(self._subscribers)} subscribers)"

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, activity: Activity) -> None:
        self.recent.append(activity)
        for subscriber in self._subscribers:
            subscriber.put(activity)

    def subscribe(self) -> Subscriber:
        """A new subscriber (:meth:`unsubscribe` it when its client goes); refused over the limit."""
        if len(self._subscribers) >= self.max_subscribers:
            raise TooManySubscribers
        subscriber = Subscriber(self.queue_size)
        subscriber.closed = self.closed
        self._subscribers.add(subscriber)
        self.changes.notify()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        self.changes.notify()

    def close(self) -> None:
        self.closed = True
        for subscriber in self._subscribers:
            subscriber.closed = True
            subscriber.ready.set()


async def stream(
    subscriber: Subscriber, *, only: str | None = None, keepalive: float = 15.0
) -> AsyncIterator[str]:
    """The SSE text of ``subscriber``'s activities (of extension ``only``, or all), a comment line
    every ``keepalive`` seconds (a dead client is noticed when the write fails)."""
    yield "retry: 3000\n\n"
    while True:
        activity = await subscriber.next(keepalive)
        if activity is not None:
            if only is not None and activity.extension_id != only:
                continue
            yield f"event: activity\ndata: {json.dumps(activity.as_json())}\n\n"
        elif subscriber.closed:
            return
        else:
            yield ": keep-alive\n\n"
