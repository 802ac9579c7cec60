"""The emulator's architecture holds (docs/emulator.md, "How it is built"): no import circle inside
it, its layers only import downwards, every module has a layer, and it imports nothing else of
rcinbox (it is the oracle the service is tested against)."""

from __future__ import annotations

import grimp
import pytest
from import_rules import Layers, circles, graph_of, imports_from_outside, unlayered, upward_imports

EMULATOR = Layers(
    "rcinbox.emulator",
    (
        ("runner", "envlines"),  # entry points: serve(), --print-env
        ("api",),  # assembly: builds the services around the world
        ("server", "control"),  # the ASGI app, the control API
        ("dispatch",),  # the middleware chain every API request goes through
        ("rest",),  # the REST resources
        ("push",),  # delivery: subscriptions, events, webhooks, the WebSocket gateway
        ("routing", "oauth", "ratelimit", "faults"),  # what the dispatcher applies
        ("world", "data", "render"),  # the data and its clock, the --data file, JSON shapes
        ("wire", "model", "mailbox", "changes", "phones"),  # shapes and records
    ),
)
OUTSIDE_ALLOWED: tuple[str, ...] = ()  # what the emulator may import from the rest of rcinbox: nothing


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return graph_of("rcinbox")


def test_no_import_circle_inside_the_emulator(graph: grimp.ImportGraph) -> None:
    assert circles(graph, EMULATOR.container) == []


def test_every_emulator_module_has_a_layer(graph: grimp.ImportGraph) -> None:
    assert unlayered(graph, EMULATOR) == []


def test_the_emulator_layers_only_import_downwards(graph: grimp.ImportGraph) -> None:
    assert upward_imports(graph, EMULATOR) == []


def test_the_emulator_imports_nothing_else_of_rcinbox(graph: grimp.ImportGraph) -> None:
    assert imports_from_outside(graph, EMULATOR.container, "rcinbox", OUTSIDE_ALLOWED) == []


def test_the_rules_catch_a_circle_an_upward_import_a_stray_module_and_an_outside_import() -> None:
    graph = grimp.ImportGraph()
    for module in ("app", "app.top", "app.low", "app.stray", "other", "other.util"):
        graph.add_module(module)
    graph.add_import(importer="app.top", imported="app.low")
    graph.add_import(importer="app.low", imported="app.top")
    graph.add_import(importer="app.low", imported="other.util")
    rules = Layers("app", (("top",), ("low",)))
    assert circles(graph, "app") == ["app.low -> app.top -> app.low", "app.top -> app.low -> app.top"]
    assert upward_imports(graph, rules) == ["app.low reaches app.top: app.low -> app.top"]
    assert unlayered(graph, rules) == ["app.stray"]
    assert imports_from_outside(graph, "app", "other") == ["app.low imports other.util"]
    assert imports_from_outside(graph, "app", "other", allowed=["other.util"]) == []
