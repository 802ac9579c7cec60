"""A recording :class:`~rcinbox.observe.Observer`: what the parts told it, in order."""

from __future__ import annotations

from typing import Any

from rcinbox.observe import Observer, Outcome, Renewal, RenewalOutcome


class Recorder(Observer):
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        return [event[1:] for event in self.events if event[0] == kind]

    def received(self, transport: str, new: bool) -> None:
        self.events.append(("received", transport, new))

    def decided(self, action: str, reason: str) -> None:
        self.events.append(("decided", action, reason))

    def finished(self, kind: str, outcome: Outcome, cause: str) -> None:
        self.events.append(("finished", kind, outcome, cause))

    def paced(self, group: str, seconds: float) -> None:
        self.events.append(("paced", group, seconds))

    def rate_limited(self, group: str) -> None:
        self.events.append(("rate_limited", group))

    def renewed(self, how: Renewal, outcome: RenewalOutcome) -> None:
        self.events.append(("renewed", how, outcome))

    def caught_up(self, trigger: str, ok: bool, found: int) -> None:
        self.events.append(("caught_up", trigger, ok, found))

    def webhook_answered(self, status: int, seconds: float) -> None:
        self.events.append(("webhook_answered", status, seconds))
