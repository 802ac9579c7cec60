"""Assembles the emulator from its API modules: one place lists everything it serves."""

from __future__ import annotations

from rcinbox.emulator import (
    account_numbers,
    accounts,
    control,
    directory,
    faults,
    gateway,
    messages,
    oauth,
    ratelimit,
    subscriptions,
    webhooks,
)
from rcinbox.emulator.routing import Routes
from rcinbox.emulator.server import Emulator
from rcinbox.emulator.world import World


def assemble(world: World) -> Emulator:
    world.ratelimiter = ratelimit.RateLimiter(world)
    world.faults = faults.Faults(world)
    routes = Routes()
    for module in (oauth, accounts, account_numbers, directory, messages, subscriptions):
        routes.include(module.routes)
    emulator = Emulator(world, routes)
    world.webhooks = webhooks.Webhooks(world)  # registers world.deliverers["WebHook"]
    emulator.closers.append(world.webhooks.aclose)
    emulator.extra_routes = [
        *control.routes(emulator),
        *faults.control_routes(emulator),
        gateway.route(emulator),
    ]
    return emulator
