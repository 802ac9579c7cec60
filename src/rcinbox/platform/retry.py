"""Retry policy (pure data) and the one send loop every platform request goes through.

``send()`` = pace (wait for room in the throttling group) → build the request (fresh bearer token)
→ send → learn the rate-limit headers → retry network failures, 5xx and 408 with exponential
backoff and jitter, and 429 after its ``Retry-After`` penalty, up to ``policy.attempts`` tries.
Requests that are not idempotent (``POST``: an SMS!) are retried only when the server surely did
not act on them: the connection was never made, or it answered 408, 429 or 503.
Backoff sleeps are registered waits (:meth:`~rcinbox.platform.pacing.Pacer.pause`): ``/readyz``
shows them and stopping the service cuts them short. Each retry is logged at WARNING, or at DEBUG
with ``policy.quiet`` (a caller that reports the outcome itself: the login at start).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from rcinbox.errors import TransportError, retry_after_seconds, transport_errors
from rcinbox.platform.pacing import Group, Pacer

log = logging.getLogger("rcinbox.platform")

RETRY_ALWAYS = frozenset({408, 429, 503})  # the platform did not act on the request
RETRY_IDEMPOTENT = frozenset({500, 502, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; after the n-th failure wait ``delay(n)`` seconds."""

    attempts: int = 4
    base_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 30.0
    jitter: float = 0.25  # ± this fraction of the delay
    max_retry_after: float = 300.0  # a 429 asking for longer is raised to the caller, not waited
    quiet: bool = False  # log retries at DEBUG: the caller reports the outcome (success or one error)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError("need 0 <= base_delay <= max_delay")
        if self.multiplier < 1:
            raise ValueError("multiplier must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        raw = min(self.max_delay, self.base_delay * self.multiplier ** max(attempt - 1, 0))
        return raw * (1 - self.jitter + 2 * self.jitter * rand())

    def retryable(self, status: int, idempotent: bool) -> bool:
        return status in RETRY_ALWAYS or (idempotent and (status in RETRY_IDEMPOTENT or status >= 505))


DEFAULT_POLICY = RetryPolicy()
Build = Callable[[], Awaitable[httpx.Request]]


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
) -> httpx.Response:
    """Send with pacing and retries; returns the last response (maybe an error one) or raises
    :class:`~rcinbox.errors.TransportError` when no answer came on the last try. ``request``
    ("POST /path") names the request's waits in the log and in ``/readyz``."""
    attempt = 0
    once = _Once(http, build, group, pacer, policy, idempotent, stream, request)
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

    async def send(self, attempt: int) -> httpx.Response | None:
        """Try once; ``None`` when a transport failure is worth another try (after the backoff)."""
        ticket = await self.pacer.acquire(self.group, self.request)
        headers: httpx.Headers | None = None
        sent = False  # not counted by the platform unless it was (maybe) sent
        try:
            request = await self.build()
            sent = True
            with transport_errors(request.method, request.url):
                response = await self.http.send(request, stream=self.stream)
            headers = response.headers
            return response
        except TransportError as exc:
            sent = exc.sent
            if attempt >= self.policy.attempts or (exc.sent and not self.idempotent):
                raise
            level = logging.DEBUG if self.policy.quiet else logging.WARNING
            log.log(level, "%s; retrying (attempt %d)", exc, attempt + 1)
        finally:
            self.pacer.release(self.group, ticket, headers, sent=sent)
        await self.pacer.pause(
            self.group, self.policy.delay(attempt), self.request, "retrying after no answer"
        )
        return None
