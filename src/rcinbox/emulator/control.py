"""(being written) The control API under ``/_emulator/``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from rcinbox.emulator.server import Emulator


def routes(emulator: Emulator) -> list[BaseRoute]:
    return []
