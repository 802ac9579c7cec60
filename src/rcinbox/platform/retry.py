"""Retry policy (pure data) and the one send loop every platform request goes through.

``send()`` = pace (wait for room in the throttling group) → build the request (fresh bearer token)
→ send → learn the rate-limit headers → retry network failures, 5xx and 408 with exponential
backoff and jitter, and 429 after its ``Retry-After`` penalty, up to ``policy.attempts`` tries.
Requests that are not idempotent (``POST``: an SMS!) are retried only when the server surely did
not act on them: the connection was never made, or it answered 408, 429 or 503.
"""

from __future__ import annotations

import asyncio
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
) -> httpx.Response:
    """Send with pacing and retries; returns the last response (maybe an error one) or raises
    :class:`~rcinbox.errors.TransportError` when no answer came on the last try."""
    attempt = 0
    while True:
        attempt += 1
        response = await _send_once(http, build, group, pacer, stream, attempt, policy, idempotent)
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
            await asyncio.sleep(delay)
        if stream:
            await response.aclose()
        path = response.request.url.path
        log.warning("%s %s -> %d, retrying (attempt %d)", response.request.method, path, status, attempt + 1)


async def _send_once(
    http: httpx.AsyncClient,
    build: Build,
    group: Group,
    pacer: Pacer,
    stream: bool,
    attempt: int,
    policy: RetryPolicy,
    idempotent: bool,
) -> httpx.Response | None:
    """One try; ``None`` when a transport failure is worth another try (after the backoff)."""
    ticket = await pacer.acquire(group)
    headers: httpx.Headers | None = None
    try:
        request = await build()
        with transport_errors(request.method, request.url):
            response = await http.send(request, stream=stream)
        headers = response.headers
        return response
    except TransportError as exc:
        if attempt >= policy.attempts or (exc.sent and not idempotent):
            raise
        log.warning("%s; retrying (attempt %d)", exc, attempt + 1)
    finally:
        pacer.release(group, ticket, headers)
    await asyncio.sleep(policy.delay(attempt))
    return None
