"""The one seam through which the running parts say what happened, for the metrics.

Each part that has something to count (the pipeline, the outbox, the catch-up, the pacer and the
session in ``platform/``, the WebHook endpoint) holds an :class:`Observer` and calls it where the
event happens; the default, :data:`NOBODY`, does nothing, so a part built without one (tests, the
doctor) counts nothing and needs no registry. The service hands every part the same
:class:`rcinbox.service.metrics.Metrics`, which turns the calls into Prometheus counters and
histograms. The calls are synchronous and never raise, never block and never do I/O.

What is read rather than counted (the outbox's depth, the transport's state) is not here: the
metrics read it from the store and the status board when ``/metrics`` is scraped.
"""

from __future__ import annotations

from typing import Literal

Outcome = Literal["sent", "failed", "unknown"]  # how a queued reply or escalation ended
Renewal = Literal["refresh", "login"]  # how the OAuth session was renewed
RenewalOutcome = Literal["ok", "refused", "failed"]  # refused: invalid_grant (a login follows)


class Observer:
    """Told about each event as it happens; this base class ignores everything."""

    def received(self, transport: str, new: bool) -> None:
        """A text reached the archive from ``transport`` (``webhook``, ``websocket``, ``sync``);
        ``new`` false: it was there already (a redelivery, or found by both a transport and a sync)."""

    def decided(self, action: str, reason: str) -> None:
        """A text was decided: ``reply``/``suppress`` and the reason (``replied``, ``too-old`` ...)."""

    def finished(self, kind: str, outcome: Outcome, cause: str) -> None:
        """The outbox is done with a row of ``kind`` (``reply`` or ``escalation``). ``cause``: for
        ``sent``, ``sent`` or ``reconciled`` (found in the message store after a crash or an unknown
        outcome); for ``failed``, ``recheck`` (consent or the rules forbade it by then),
        ``no-sender-credential``, ``refused`` (the platform said no) or ``gave-up`` (retries
        exhausted, not sent); for ``unknown``, ``gave-up``."""

    def paced(self, group: str, seconds: float) -> None:
        """A request of the throttling ``group`` waited ``seconds`` for the budget (or a 429's penalty)."""

    def rate_limited(self, group: str) -> None:
        """RingCentral answered 429 to a request of ``group``."""

    def renewed(self, how: Renewal, outcome: RenewalOutcome) -> None:
        """The OAuth session was renewed (or the attempt was refused or failed)."""

    def caught_up(self, trigger: str, ok: bool, found: int) -> None:
        """A message-sync round ran (``trigger``: ``subscribed``, ``unstored``, ``periodic``,
        ``retry``, ``manual``) and archived ``found`` texts no transport had delivered."""

    def webhook_answered(self, status: int, seconds: float) -> None:
        """The WebHook endpoint answered a POST with ``status`` after ``seconds``."""


NOBODY = Observer()
