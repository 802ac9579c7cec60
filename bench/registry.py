"""The scenarios, in the order ``python -m bench`` runs them (each imported only when it runs)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from bench.contract import Scenario

SCENARIOS: tuple[str, ...] = (
    "webhook_ingest",
    "reply_path",
    "default_limits",
    "attachments",
    "catchup",
    "footprint",
    "dashboard",
    "replicas",
)


def runner(name: str) -> Callable[[bool], Scenario]:
    """The ``run(quick)`` function of scenario ``name`` (``bench/scenarios/<name>.py``)."""
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    module = importlib.import_module(f"bench.scenarios.{name}")
    run: Callable[[bool], Scenario] = module.run
    return run
