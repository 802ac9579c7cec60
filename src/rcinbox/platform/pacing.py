"""Client-side pacing per RingCentral throttling group, so bursts never reach a 429.

RingCentral counts requests per (user, app, group) over a sliding window and answers every call
with ``X-Rate-Limit-Group/Limit/Remaining/Window``. :class:`Pacer` (one per user session, so each
user's budget is used independently of the others') counts, per group, our requests in flight and,
for one window after its answer arrived, each answered one (the platform counted it when it
arrived, earlier, so it leaves the platform's window first), and lets a request go while that count
is under the limit: a burst uses the whole budget at once, and the next request goes the moment
the oldest one leaves the window. When ``X-Rate-Limit-Remaining`` says fewer requests are left
than we account for (another process using the same user and app), the difference is booked as
requests by others for one window. Until a group's first answer has taught its limits, its
requests go one at a time. An answer without the headers (a server that does not send them, such
as ``rcinbox emulator --no-rate-limits``) leaves RingCentral's documented defaults in force
(:data:`DEFAULT_LIMITS` per :data:`DEFAULT_WINDOW`), said once per group in an INFO line
(``pacing.assumed``). After a 429 the whole group waits out the ``Retry-After`` penalty: a request
during the penalty would restart it.

Replicas sharing one user's session split each budget: :meth:`Pacer.share_with` sets the
``portion`` of every group's limit this process may fill (1/N for N live replicas; 1 alone), and
the requests the server counts beyond ours are booked as others' only past what the other
replicas' portions explain.

Requests waiting for room queue first come, first served, per group. A request may ask for only a
``share`` of the budget (e.g. :data:`BACKGROUND_SHARE`: attachment downloads): it goes only while
the group's count is under that share of the limit and no full-share request (a reply) is waiting,
so it never holds a reply up. Bookkeeping is O(1) per request: a count of requests in flight and
deques of the times the answered ones leave the window, in the order they do.

Waiting is an ``asyncio.Event`` wait with a timeout: it wakes early when the request's turn comes
and is cancellable like any await; booking and releasing never await, so they cannot be
interrupted. A wait longer than a second is logged at INFO once (which request, which group, how
long, why), and every wait is registered in :class:`~rcinbox.platform.waits.Waits` while it lasts
(``/readyz`` shows it; stopping the service cuts it short). A request whose connection was never
made is not counted: the platform never saw it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from rcinbox.clock import SYSTEM, Clock
from rcinbox.observe import NOBODY, Observer
from rcinbox.platform.waits import Wait, Waits

Group = Literal["Light", "Medium", "Heavy", "Auth"]
log = logging.getLogger("rcinbox.platform")

# RingCentral's documented defaults (per user and app, 60 s window); headers override them.
DEFAULT_LIMITS: Mapping[Group, int] = {"Light": 50, "Medium": 40, "Heavy": 10, "Auth": 5}
DEFAULT_WINDOW = 60.0
BACKGROUND_SHARE = 0.5  # the part of a group's budget background work may use (see ``share``)
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


@dataclass(eq=False)
class _Waiter:
    share: float
    turn: asyncio.Event = field(default_factory=asyncio.Event)  # set when it may look again


@dataclass
class _GroupState:
    limit: int
    window: float
    flying: dict[int, int] = field(default_factory=dict)  # ticket sent, answer not in yet -> ``left`` then
    ours: deque[float] = field(default_factory=deque)  # answered: counted until (ascending)
    others: deque[float] = field(default_factory=deque)  # by other clients, as the server said
    left: int = 0  # how many counted requests have left the window so far
    penalty_until: float = 0.0
    known: bool = False  # limits learned from an answer; until then one request at a time
    told: bool = False  # headers seen, or the assumed defaults said in the log
    sends: deque[_Waiter] = field(default_factory=deque)  # waiting full-share requests, in order
    background: deque[_Waiter] = field(default_factory=deque)  # waiting partial-share requests

    def used(self, now: float) -> int:
        """Requests the platform may still count now (ours in flight or answered, and others')."""
        for counted in (self.ours, self.others):
            while counted and counted[0] <= now:
                counted.popleft()
                self.left += 1
        return len(self.flying) + len(self.ours) + len(self.others)

    def cap(self, share: float) -> int:
        return self.limit if share >= 1 else max(1, int(self.limit * share))

    def next_expiry(self) -> float:
        """When the oldest counted answer leaves the window (``inf``: all are in flight)."""
        return min(self.ours[0] if self.ours else inf, self.others[0] if self.others else inf)

    def queue(self, share: float) -> deque[_Waiter]:
        return self.sends if share >= 1 else self.background

    def first_in_line(self, waiter: _Waiter) -> bool:
        if waiter.share >= 1:
            return self.sends[0] is waiter
        return not self.sends and self.background[0] is waiter

    def count(self, until: float, counted: deque[float]) -> None:
        counted.append(max(until, counted[-1]) if counted else until)  # ascending, even if the window changed


class Pacer:
    """Per-group gate: ``ticket = await pacer.acquire(group)``, send, ``pacer.release(...)``."""

    def __init__(
        self, clock: Clock = SYSTEM, waits: Waits | None = None, observer: Observer = NOBODY
    ) -> None:
        self._clock = clock.monotonic
        self.observer = observer  # the metrics: each wait (its group, how long) and each 429
        self.clock = clock  # its sleeps: a fake clock moved forward wakes the waits
        self.waits = waits or Waits()
        self._groups: dict[Group, _GroupState] = {}
        self._tickets = itertools.count(1)
        self._changed = asyncio.Event()  # see changed()
        self.portion = 1.0  # the part of each group's budget this process may fill (share_with)

    def share_with(self, replicas: int) -> None:
        """``replicas`` processes (this one included) use this session: fill 1/N of each budget."""
        portion = 1.0 / max(1, replicas)
        if portion != self.portion:
            log.info("pacing: %d replicas share the rate limits; this one uses 1/%d", replicas, replicas)
            self.portion = portion
            for st in self._groups.values():
                self._kick(st)

    def state(self, group: Group) -> _GroupState:
        if group not in self._groups:
            self._groups[group] = _GroupState(DEFAULT_LIMITS[group], DEFAULT_WINDOW)
        return self._groups[group]

    def used(self, group: Group) -> int:
        """Requests of ``group`` the platform may count now: in flight, answered within the
        window, and other clients' as the platform reported them."""
        return self.state(group).used(self._clock())

    def by_others(self, group: Group) -> int:
        st = self.state(group)
        st.used(self._clock())
        return len(st.others)

    def wait_time(self, group: Group, share: float = 1.0) -> float:
        """Seconds before a request of ``group`` would have room (0 = now; ``inf`` = until an
        answer arrives), not counting the requests queued before it."""
        now = self._clock()
        st = self.state(group)
        if st.penalty_until > now:
            return st.penalty_until - now
        if not st.known and st.flying:  # the first request of a group probes the limits alone
            return inf
        if st.used(now) < st.cap(share * self.portion):
            return 0.0
        return max(st.next_expiry() - now, 0.001)

    async def acquire(self, group: Group, request: str = "", share: float = 1.0) -> int:
        """Wait for the turn and room of a request of ``group``, then book it; returns the ticket
        to release. ``request`` ("POST /path") only names the wait in the log and in ``/readyz``;
        ``share`` (0 < share ≤ 1) is the part of the budget it may fill: below 1 it also lets every
        waiting full-share request go first."""
        st = self.state(group)
        queue = st.queue(share)
        ahead = queue or (share < 1 and st.sends)
        if not ahead and self.wait_time(group, share) == 0:
            return self._book(st)
        waiter = _Waiter(share)
        queue.append(waiter)
        began = self._clock()
        try:
            await self._wait(group, waiter, request)
        finally:
            queue.remove(waiter)  # the head: O(1)
            self._kick(st)
            self.observer.paced(group, self._clock() - began)
        return self._book(st)

    def _book(self, st: _GroupState) -> int:
        ticket = next(self._tickets)
        st.flying[ticket] = st.left
        return ticket

    async def _wait(self, group: Group, waiter: _Waiter, request: str) -> None:
        st = self.state(group)
        wait = Wait(group, request, self.why(group), inf, self._clock)
        announced = False
        with self.waits.waiting(wait):
            while True:
                delay = self.wait_time(group, waiter.share) if st.first_in_line(waiter) else inf
                if delay <= 0:
                    return
                wait.until, wait.reason = self._clock() + delay, self.why(group, waiter.share)
                if not announced and ANNOUNCE_AFTER < delay < inf:
                    announced = wait.shown = True
                    what = request or f"a request of the {group} group"
                    log.info("%s waits %.0f s: %s", what, delay, wait.reason, extra={"action": "pacing.wait"})
                else:
                    log.debug("pacing %s group: waiting %.2f s", group, delay)
                waiter.turn.clear()
                await self.clock.wait(waiter.turn, at_most=None if delay == inf else delay)

    def _kick(self, st: _GroupState) -> None:
        """Let the first request in line look again (its turn, or room, may have come), and
        whoever waits on :meth:`changed`."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        if st.sends:
            st.sends[0].turn.set()
        elif st.background:
            st.background[0].turn.set()

    async def pause(self, group: Group, seconds: float, request: str, reason: str) -> None:
        """Sleep ``seconds`` (a retry's backoff), registered as a wait: shown and interruptible."""
        wait = Wait(group, request, reason, self._clock() + seconds, self._clock, seconds > ANNOUNCE_AFTER)
        with self.waits.waiting(wait):
            await self.clock.sleep(seconds)

    def why(self, group: Group, share: float = 1.0) -> str:
        """Why a request of ``group`` would wait now, in words (for the log and ``/readyz``)."""
        st = self.state(group)
        now = self._clock()
        if st.penalty_until > now:
            return f"RingCentral answered 429 (rate limited): the {group} group is paused"
        if not st.known:
            return f"{group} group: waiting for the first answer, which tells the limits"
        used, budget = st.used(now), f"{st.limit}/{st.window:g}s"
        by_others = f", {len(st.others)} of them by other clients of this user and app" if st.others else ""
        if used >= st.limit:
            return f"{group} group budget {budget} used{by_others}"
        if self.portion < 1 and used >= st.cap(self.portion):
            return f"{group} group budget {budget}: this replica's part ({st.cap(self.portion)}) used"
        if used >= st.cap(share * self.portion):
            return f"{group} group budget {budget}: the {st.limit - used} left are kept for replies"
        return f"{group} group: {len(st.sends) + len(st.background)} request(s) waiting in line"

    def release(
        self,
        group: Group,
        ticket: int,
        headers: Mapping[str, str] | None = None,
        *,
        sent: bool = True,
        status: int | None = None,
    ) -> None:
        """The answer arrived (or none will): count the request for one more window, learn from
        the headers, let the next request in line look. ``sent=False``: the connection was never
        made, so the platform did not count it either. ``status``: the answer's (a successful one
        without rate-limit headers means the defaults are assumed). Synchronous, so even a
        cancelled task always releases."""
        st = self.state(group)
        if headers is not None:
            self._observe(group, headers, status, st.flying.get(ticket))
        if ticket in st.flying:
            del st.flying[ticket]
            if sent:
                st.count(self._clock() + st.window, st.ours)
        st.known = st.known or sent
        self._kick(st)

    def penalize(self, group: Group, seconds: float) -> None:
        """A 429: nothing of this group goes out for ``seconds``."""
        st = self.state(group)
        st.penalty_until = max(st.penalty_until, self._clock() + seconds)
        self.observer.rate_limited(group)
        log.warning("rate limited in %s group: pausing it for %.1f s", group, seconds)
        self._kick(st)

    # -- a hook for callers that pace themselves against a group (the attachment downloads) --

    def changed(self) -> asyncio.Event:
        """An event set at the next change of any group (a booking, an answer, a 429): a caller
        that waits for room from outside takes it before checking, then waits on it."""
        return self._changed

    def _observe(self, hint: Group, headers: Mapping[str, str], status: int | None, left: int | None) -> None:
        """Learn the limits; book what the server counts beyond ours as other clients' requests.
        ``left``: the hint group's count of departed requests when this one was sent. The server
        answered with its count from when the request arrived, so the requests that left our
        window since it was sent are added back to ours before comparing (else each answer that
        crosses an expiry would book phantom requests and cost their room for a whole window)."""
        group = parse_group(headers.get("x-rate-limit-group")) or hint
        try:
            limit = int(headers["x-rate-limit-limit"])
            remaining = int(headers["x-rate-limit-remaining"])
            window = float(headers["x-rate-limit-window"])
        except (KeyError, ValueError):
            if status is not None and 200 <= status < 300:
                self._assume(group)
            return
        if limit <= 0 or window <= 0:
            return
        st = self.state(group)
        st.limit, st.window = limit, window
        st.known = st.told = True  # learned, even when the answer names another group than the one guessed
        now = self._clock()
        ours = st.used(now) + (st.left - left if group == hint and left is not None else 0)
        replicas = limit - st.cap(self.portion)  # the other replicas' parts: theirs to use
        missing = (limit - remaining) - ours - replicas  # used by others, as far as the server says
        for _ in range(max(0, missing)):
            st.count(now + window, st.others)
        if group != hint:
            self._kick(st)

    def _assume(self, group: Group) -> None:
        """An answer without rate-limit headers: say once what the pacer goes by instead."""
        st = self.state(group)
        if st.told:
            return
        st.told = True
        log.info(
            "%s: no rate-limit headers from the platform; assuming %d requests per %g s",
            group,
            st.limit,
            st.window,
            extra={"action": "pacing.assumed"},
        )
