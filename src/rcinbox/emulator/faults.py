"""(being written) Injected faults."""

from __future__ import annotations

from starlette.routing import BaseRoute

from rcinbox.emulator.server import Emulator
from rcinbox.emulator.wire import ApiResponse
from rcinbox.emulator.world import World


class Faults:
    def __init__(self, world: World) -> None:
        self.world = world

    def take_http(self, method: str, path: str) -> ApiResponse | None:
        return None


def control_routes(emulator: Emulator) -> list[BaseRoute]:
    return []
