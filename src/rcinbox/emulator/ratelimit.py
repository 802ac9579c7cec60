"""(being written) Per-user, per-group rate limits."""

from __future__ import annotations

from rcinbox.emulator.routing import Group
from rcinbox.emulator.world import World


class RateLimiter:
    def __init__(self, world: World) -> None:
        self.world = world

    def hit(self, key: str, group: Group) -> dict[str, str]:
        return {}
