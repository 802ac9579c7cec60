"""A faithful local RingCentral platform emulator: REST, OAuth, WebHook and WebSocket subscriptions.

``rcinbox emulator`` serves it; :func:`rcinbox.emulator.runner.serve` runs it in-process.
"""

from __future__ import annotations
