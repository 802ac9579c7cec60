"""A faithful local RingCentral platform emulator: REST, OAuth, WebHook and WebSocket subscriptions.

``rcinbox emulator`` serves it; :func:`rcinbox.emulator.runner.serve` runs it in-process.

Its rooms, in layers that only import downwards (docs/emulator.md, "How it is built"): the
entry points (``runner``, ``envlines``), the assembly (``api``), the edge (``server`` and
``control/``), the ``dispatch`` chain, the REST resources (``rest/``), delivery (``push/``), the
state the dispatcher applies (``routing``, ``oauth``, ``ratelimit``, ``faults``), the world
(``world``, ``data``, ``render``) and the base shapes (``wire``, ``model``, ``mailbox``,
``changes``, ``phones``).
"""

from __future__ import annotations
