"""The package's architecture holds (docs/architecture.md, "Layers and rooms"): no import circle
anywhere in rcinbox, every top-level module or package has its layer, a layer imports only from
itself and the layers below, and the sibling rooms (platform, transports, rules, store; the
service and the emulator) never import each other. The emulator's inner layers are checked in
tests/integration/emulator/test_layers.py."""

from __future__ import annotations

import grimp
import pytest
from import_rules import Layers, circles, graph_of, unlayered, upward_imports

ROOMS = ("platform", "transports", "rules", "store", "intents")
RUNNING = ("service", "emulator")  # the emulator imports nothing of the service, nor it of the emulator
FOUNDATION = (
    "settings",
    "settings_parsers",
    "errors",
    "logs",
    "events",
    "intent",
    "payload",
    "wire",
    "timestamps",
    "numbers",
    "waiting",
    "backoff",
    "clock",
    "private",
    "datalock",
    "passwords",
    "observe",
    "sender_jwts",
    "media",
)

RCINBOX = Layers(
    "rcinbox",
    (
        ("__main__",),  # python -m rcinbox
        ("cli",),  # the command and what it shows; starts an emulator for the demo
        RUNNING,
        ("dashboard",),  # the web dashboard: the service mounts it; it never imports the service
        ROOMS,
        FOUNDATION,
    ),
    siblings=(RUNNING, ROOMS),
)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return graph_of("rcinbox")


def test_no_import_circle_anywhere(graph: grimp.ImportGraph) -> None:
    assert circles(graph, "rcinbox") == []


def test_every_module_of_the_package_has_a_layer(graph: grimp.ImportGraph) -> None:
    assert unlayered(graph, RCINBOX) == []


def test_layers_only_import_downwards_and_rooms_not_each_other(graph: grimp.ImportGraph) -> None:
    assert upward_imports(graph, RCINBOX) == []


def test_sibling_rooms_are_caught_importing_each_other() -> None:
    graph = grimp.ImportGraph()
    for module in ("app", "app.a", "app.b", "app.base"):
        graph.add_module(module)
    graph.add_import(importer="app.a", imported="app.b")
    graph.add_import(importer="app.a", imported="app.base")
    rules = Layers("app", (("a", "b"), ("base",)), siblings=(("a", "b"),))
    assert upward_imports(graph, rules) == ["app.a reaches app.b: app.a -> app.b"]
    assert upward_imports(graph, Layers("app", (("a", "b"), ("base",)))) == []
