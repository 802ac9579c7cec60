"""(being written) RingCentral accounts API of the emulator."""

from __future__ import annotations

from rcinbox.emulator.routing import Routes

routes = Routes()
