"""Assembles the emulator around a world: one place lists everything it serves and wires each
service to what it needs (nothing looks a service up in the world)."""

from __future__ import annotations

from rcinbox.emulator.control import faults as fault_control
from rcinbox.emulator.control import state
from rcinbox.emulator.dispatch import Dispatcher
from rcinbox.emulator.faults import Faults
from rcinbox.emulator.push import subscriptions
from rcinbox.emulator.push.gateway import Gateway
from rcinbox.emulator.push.webhooks import Webhooks
from rcinbox.emulator.ratelimit import RateLimiter
from rcinbox.emulator.rest import account_numbers, accounts, directory, messages, tokens
from rcinbox.emulator.routing import Routes
from rcinbox.emulator.server import Emulator
from rcinbox.emulator.world import World


def assemble(world: World) -> Emulator:
    limiter = RateLimiter(world.now)
    faults = Faults()
    webhooks = Webhooks(world)
    routes = Routes()
    for table in (
        tokens.routes,
        accounts.routes,
        account_numbers.routes,
        directory.routes,
        messages.routes,
        subscriptions.routes(webhooks),
    ):
        routes.include(table)
    dispatcher = Dispatcher(world, routes, faults, limiter)
    gateway = Gateway(world, dispatcher.handle)
    world.deliverers["WebHook"] = webhooks.deliver
    world.deliverers["WebSocket"] = gateway.deliver
    emulator = Emulator(world, routes, dispatcher, limiter, faults, webhooks, gateway)
    emulator.extra_routes = [
        *state.routes(world),
        *fault_control.routes(fault_control.FaultControl(world, faults, limiter)),
        gateway.route(),
    ]
    # run in reverse on shutdown: gateway sessions, then status progressions, then the webhook client
    emulator.closers = [webhooks.aclose, world.mailbox.close, gateway.aclose]
    return emulator
