"""Client-side pacing per RingCentral throttling group, so bursts never reach a 429.

RingCentral counts requests per (user, app, group) over a sliding window and answers every call
with ``X-Rate-Limit-Group/Limit/Remaining/Window``. :class:`Pacer` keeps, per group, the times our
recent requests may still be counted (an in-flight request counts until its answer arrives, then
for one window after that) and lets a request go only while that count is under the limit. When the
server reports fewer requests remaining than we account for (another process using the same user
and app), the difference is booked as phantom requests for one window. When the remaining budget
is low, requests are spread evenly (one per ``window / limit``) instead of bursting to the limit.
Until a group's first answer has taught its limits, its requests go one at a time.
After a 429 the whole group waits out the ``Retry-After`` penalty: a request during the penalty
would restart it.

Waiting is an ``asyncio.Event`` wait with a timeout: it wakes early when the state changes and is
cancellable like any await; booking and releasing never await, so they cannot be interrupted.
A wait longer than a second is logged at INFO once (which request, which group, how long, why), and
every wait is registered in :class:`~rcinbox.platform.waits.Waits` while it lasts (``/readyz``
shows it; stopping the service cuts it short). A request whose connection was never made is not
counted: the platform never saw it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from rcinbox.clock import SYSTEM, Clock
from rcinbox.platform.waits import Wait, Waits

Group = Literal["Light", "Medium", "Heavy", "Auth"]
log = logging.getLogger("rcinbox.platform")

# RingCentral's documented defaults (per user and app, 60 s window); headers override them.
DEFAULT_LIMITS: Mapping[Group, int] = {"Light": 50, "Medium": 40, "Heavy": 10, "Auth": 5}
DEFAULT_WINDOW = 60.0
inf = float("inf")
ANNOUNCE_AFTER = 1.0  # a wait longer than this (seconds) gets an INFO line
_GROUPS: Mapping[str, Group] = {g.lower(): g for g in DEFAULT_LIMITS}


def group_for(method: str, url: str) -> Group:
    """The throttling group of a request, known before sending (SPEC ``x-throttling-group``)."""
    path = urlsplit(url).path.rstrip("/")
    method = method.upper()
    if "/oauth/" in path:
        return "Auth"
    if "/address-book" in path or re.fullmatch(r".*/account/[^/]+/phone-number", path):
        return "Heavy"  # contacts; the account's number list
    if "/directory/" in path:
        return "Medium"
    if path.endswith(("/sms", "/mms")) or "/content/" in path:
        return "Medium"
    if "/subscription" in path:
        if path.endswith("/renew") or method == "GET":
            return "Light"
        return "Medium"
    if "/message-store/" in path and method in ("PUT", "PATCH", "DELETE"):
        return "Medium"
    return "Light"


def parse_group(value: str | None) -> Group | None:
    return _GROUPS.get((value or "").strip().lower())


@dataclass
class _GroupState:
    limit: int
    window: float
    counted: dict[int, float] = field(default_factory=dict)  # ticket -> counted until (inf = in flight)
    last_sent: float = float("-inf")
    penalty_until: float = 0.0
    known: bool = False  # limits learned from an answer; until then one request at a time


class Pacer:
    """Per-group gate: ``async with pacer.slot(group): send`` or ``acquire``/``release`` by hand."""

    def __init__(
        self,
        clock: Clock = SYSTEM,
        low_fraction: float = 0.5,
        waits: Waits | None = None,
    ) -> None:
        self._clock = clock.monotonic
        self.clock = clock  # its sleeps: a fake clock moved forward wakes the waits
        self._low = low_fraction
        self.waits = waits or Waits()
        self._groups: dict[Group, _GroupState] = {}
        self._changed = asyncio.Event()  # replaced (after being set) at every change
        self._tickets = itertools.count(1)

    def state(self, group: Group) -> _GroupState:
        if group not in self._groups:
            self._groups[group] = _GroupState(DEFAULT_LIMITS[group], DEFAULT_WINDOW)
        return self._groups[group]

    def wait_time(self, group: Group) -> float:
        """Seconds before a request of ``group`` may go (0 = now)."""
        now = self._clock()
        st = self.state(group)
        self._expire(st, now)
        if st.penalty_until > now:
            return st.penalty_until - now
        used = len(st.counted)
        if not st.known and used:  # the first request of a group probes the limits alone
            return inf
        if used >= st.limit:  # full: until the oldest answered request leaves the window
            return max(min(st.counted.values()) - now, 0.001)  # inf while all are in flight
        if st.limit - used <= st.limit * self._low:  # low: spread what is left evenly
            return max(st.last_sent + st.window / st.limit - now, 0.0)
        return 0.0

    async def acquire(self, group: Group, request: str = "") -> int:
        """Wait until ``group`` has room, then book one request; returns the ticket to release.
        ``request`` ("POST /path") only names the wait in the log and in ``/readyz``."""
        delay = self.wait_time(group)
        if delay > 0:
            await self._wait(group, request, delay)
        st = self.state(group)  # checked and booked with no await in between: atomic
        ticket = next(self._tickets)
        st.counted[ticket] = inf
        st.last_sent = self._clock()
        return ticket

    async def _wait(self, group: Group, request: str, delay: float) -> None:
        wait = Wait(group, request, self.why(group), self._clock() + delay, self._clock)
        announced = False
        with self.waits.waiting(wait):
            while delay > 0:
                wait.until, wait.reason = self._clock() + delay, self.why(group)
                if not announced and ANNOUNCE_AFTER < delay < inf:
                    announced = wait.shown = True
                    what = request or f"a request of the {group} group"
                    log.info("%s waits %.0f s: %s", what, delay, wait.reason, extra={"action": "pacing.wait"})
                else:
                    log.debug("pacing %s group: waiting %.2f s", group, delay)
                await self.clock.wait(self._changed, at_most=None if delay == inf else delay)
                delay = self.wait_time(group)

    async def pause(self, group: Group, seconds: float, request: str, reason: str) -> None:
        """Sleep ``seconds`` (a retry's backoff), registered as a wait: shown and interruptible."""
        wait = Wait(group, request, reason, self._clock() + seconds, self._clock, seconds > ANNOUNCE_AFTER)
        with self.waits.waiting(wait):
            await self.clock.sleep(seconds)

    def why(self, group: Group) -> str:
        """Why a request of ``group`` would wait now, in words (for the log and ``/readyz``)."""
        st = self.state(group)
        now = self._clock()
        if st.penalty_until > now:
            return f"RingCentral answered 429 (rate limited): the {group} group is paused"
        others = sum(1 for ticket in st.counted if ticket < 0)
        by_others = f", {others} of them by other clients of this user and app" if others else ""
        budget = f"{st.limit}/{st.window:g}s"
        if not st.known:
            return f"{group} group: waiting for the first answer, which tells the limits"
        if len(st.counted) >= st.limit:
            return f"{group} group budget {budget} used{by_others}"
        left = st.limit - len(st.counted)
        return f"{group} group budget {budget} nearly used ({left} left{by_others}): spreading requests"

    def release(
        self, group: Group, ticket: int, headers: Mapping[str, str] | None = None, *, sent: bool = True
    ) -> None:
        """The answer arrived (or none will): count the request for one more window, learn from
        the headers, wake the waiters. ``sent=False``: the connection was never made, so the
        platform did not count it either. Synchronous, so even a cancelled task always releases."""
        if headers is not None:
            self._observe(group, headers)
        st = self.state(group)
        if not sent:
            st.counted.pop(ticket, None)
        else:
            if ticket in st.counted:
                st.counted[ticket] = self._clock() + st.window
            st.known = True
        self._wake()

    def penalize(self, group: Group, seconds: float) -> None:
        """A 429: nothing of this group goes out for ``seconds``."""
        st = self.state(group)
        st.penalty_until = max(st.penalty_until, self._clock() + seconds)
        log.warning("rate limited in %s group: pausing it for %.1f s", group, seconds)
        self._wake()

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # -- a hook for callers that pace themselves against a group (the attachment downloads) --

    def changed(self) -> asyncio.Event:
        """An event set at the next change of any group (a booking, an answer, a 429): a caller
        that waits for room from outside takes it before checking, then waits on it."""
        return self._changed

    def _observe(self, hint: Group, headers: Mapping[str, str]) -> None:
        group = parse_group(headers.get("x-rate-limit-group")) or hint
        try:
            limit = int(headers["x-rate-limit-limit"])
            remaining = int(headers["x-rate-limit-remaining"])
            window = float(headers["x-rate-limit-window"])
        except (KeyError, ValueError):
            return
        if limit <= 0 or window <= 0:
            return
        st = self.state(group)
        st.limit, st.window = limit, window
        st.known = True  # learned, even when the answer names another group than the one guessed
        now = self._clock()
        self._expire(st, now)
        missing = (limit - remaining) - len(st.counted)  # used by others, as far as the server says
        for _ in range(max(0, missing)):
            st.counted[-next(self._tickets)] = now + window

    @staticmethod
    def _expire(st: _GroupState, now: float) -> None:
        for ticket in [t for t, until in st.counted.items() if until <= now]:
            del st.counted[ticket]
