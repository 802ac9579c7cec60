"""Retry policy (pure data) and the one send loop every platform request goes through.

``send()`` = pace (wait for room in the throttling group) → build the request (fresh bearer token)
→ send → learn the rate-limit headers → retry network failures, 5xx and 408 with exponential
backoff and jitter, and 429 after its ``Retry-After`` penalty, up to ``policy.attempts`` tries.
Requests that are not idempotent (``POST``: an SMS!) are retried only when the server surely did
not act on them: the connection was never made, or it answered 408, 429 or 503.
A request may carry a ``fence``: awaited after the pacer granted the try and the request was built,
right before it is written (each try), it raises to abandon the request unsent (a replica whose
claim on the reply may have ended while it waited: :mod:`rcinbox.service.membership`).
Backoff sleeps are registered waits (:meth:`~rcinbox.platform.pacing.Pacer.pause`): ``/readyz``
shows them and stopping the service cuts them short. Each retry is logged at WARNING, or at DEBUG
with ``policy.quiet`` (a caller that reports the outcome itself: the login at start).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from rcinbox.backoff import Backoff
from rcinbox.errors import TransportError, retry_after_seconds, transport_errors
from rcinbox.platform.pacing import Group, Pacer

log = logging.getLogger("rcinbox.platform")

RETRY_ALWAYS = frozenset({408, 429, 503})  # the platform did not act on the request
RETRY_IDEMPOTENT = frozenset({500, 502, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy(Backoff):
    """``attempts`` tries in all; after the n-th failure wait ``delay(n)`` seconds."""

    attempts: int = 4
    max_retry_after: float = 300.0  # a 429 asking for longer is raised to the caller, not waited
    quiet: bool = False  # log retries at DEBUG: the caller reports the outcome (success or one error)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def retryable(self, status: int, idempotent: bool) -> bool:
        return status in RETRY_ALWAYS or (idempotent and (status in RETRY_IDEMPOTENT or status >= 505))


DEFAULT_POLICY = RetryPolicy()
Build = Callable[[], Awaitable[httpx.Request]]
Fence = Callable[[], Awaitable[None]]  # raises: do not send (see the module's docstring)


async def send(
    http: httpx.AsyncClient,
    build: Build,
    *,
    group: Group,
    pacer: Pacer,
    policy: RetryPolicy,
    idempotent: bool,
    stream: bool = False,
    request: str = "",
    share: float = 1.0,
    fence: Fence | None = None,
) -> httpx.Response:
    """Send with pacing and retries; returns the last response (maybe an error one) or raises
    :class:`~rcinbox.errors.TransportError` when no answer came on the last try. ``request``
    ("POST /path") names the request's waits in the log and in ``/readyz``; ``share``: the part of
    the group's budget the request may use (:meth:`~rcinbox.platform.pacing.Pacer.acquire`);
    ``fence``: awaited right before each try is written (its error is raised, nothing sent)."""
    attempt = 0
    once = _Once(http, build, group, pacer, policy, idempotent, stream, request, share, fence)
    while True:
        attempt += 1
        response = await once.send(attempt)
        if response is None:
            continue
        status = response.status_code
        if attempt >= policy.attempts or not policy.retryable(status, idempotent):
            return response
        if status == 429:
            wait = retry_after_seconds(response.headers)
            if wait > policy.max_retry_after:
                return response
            pacer.penalize(group, wait)  # the next acquire() waits the penalty out
        else:
            delay = policy.delay(attempt)
            if status == 503 and "retry-after" in response.headers:  # advisory pause, within our bounds
                delay = max(delay, min(retry_after_seconds(response.headers), policy.max_delay))
            if delay > policy.max_retry_after:
                return response
            await pacer.pause(group, delay, request, f"HTTP {status}: retrying")
        if stream:
            await response.aclose()
        path = response.request.url.path
        level = logging.DEBUG if policy.quiet else logging.WARNING
        log.log(
            level, "%s %s -> %d, retrying (attempt %d)", response.request.method, path, status, attempt + 1
        )


@dataclass(frozen=True)
class _Once:
    """One try of a request, with everything the tries share."""

    http: httpx.AsyncClient
    build: Build
    group: Group
    pacer: Pacer
    policy: RetryPolicy
    idempotent: bool
    stream: bool
    request: str
    share: float
    fence: Fence | None

    async def send(self, attempt: int) -> httpx.Response | None:
        """Try once; ``None`` when a transport failure is worth another try (after the backoff)."""
        ticket = await self.pacer.acquire(self.group, self.request, self.share)
        headers: httpx.Headers | None = None
        status: int | None = None
        sent = False  # not counted by the platform unless it was (maybe) sent
        try:
            request = await self.build()
            if self.fence is not None:  # after the wait for the pacer and the token: last check
                await self.fence()
            sent = True
            with transport_errors(request.method, request.url):
                response = await self.http.send(request, stream=self.stream)
            headers, status = response.headers, response.status_code
            return response
        except TransportError as exc:
            sent = exc.sent
            if attempt >= self.policy.attempts or (exc.sent and not self.idempotent):
                raise
            level = logging.DEBUG if self.policy.quiet else logging.WARNING
            log.log(level, "%s; retrying (attempt %d)", exc, attempt + 1)
        finally:
            self.pacer.release(self.group, ticket, headers, sent=sent, status=status)
        await self.pacer.pause(
            self.group, self.policy.delay(attempt), self.request, "retrying after no answer"
        )
        return None
