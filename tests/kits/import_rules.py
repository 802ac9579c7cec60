"""Architecture rules checked on the import graph (built by grimp from the source, imports under
``if TYPE_CHECKING:`` included). Each check returns what breaks the rule, one readable line per
finding, so a test asserts ``== []`` and a failure says what to change.

The rules are data: a :class:`Layers` names a container package and its layers, top first; a
module may import from its own layer and the layers below it. Use it for any package.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import grimp


@dataclass(frozen=True)
class Layers:
    container: str  # e.g. "rcinbox.emulator"
    layers: tuple[tuple[str, ...], ...]  # top first; each a set of child names of the container
    siblings: tuple[tuple[str, ...], ...] = ()  # layers whose members must not import each other

    def as_grimp(self) -> list[grimp.Layer]:
        return [grimp.Layer(*layer, independent=layer in self.siblings) for layer in self.layers]

    def children(self) -> set[str]:
        return {f"{self.container}.{name}" for layer in self.layers for name in layer}


def graph_of(package: str) -> grimp.ImportGraph:
    return grimp.build_graph(package, cache_dir=None)


def within(graph: grimp.ImportGraph, package: str) -> list[str]:
    """``package`` and every module below it, sorted."""
    return sorted({package, *graph.find_descendants(package)})


def circles(graph: grimp.ImportGraph, package: str) -> list[str]:
    """Every import inside ``package`` that closes a circle, with the way back to its importer."""
    modules = within(graph, package)
    found = []
    for importer in modules:
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported in modules and graph.chain_exists(importer=imported, imported=importer):
                back = graph.find_shortest_chain(importer=imported, imported=importer) or ()
                found.append(f"{importer} -> {' -> '.join(back)}")
    return found


def unlayered(graph: grimp.ImportGraph, rules: Layers) -> list[str]:
    """Children of the container that no layer names (a new module must be given its place)."""
    return sorted(set(graph.find_children(rules.container)) - rules.children())


def upward_imports(graph: grimp.ImportGraph, rules: Layers) -> list[str]:
    """Every way a lower layer reaches a higher one, as the chain of imports."""
    illegal = graph.find_illegal_dependencies_for_layers(
        layers=rules.as_grimp(), containers={rules.container}
    )
    found = []
    for dependency in sorted(illegal, key=lambda d: (d.importer, d.imported)):
        for route in dependency.routes:
            chain = [" | ".join(sorted(route.heads)), *route.middle, " | ".join(sorted(route.tails))]
            found.append(f"{dependency.importer} reaches {dependency.imported}: {' -> '.join(chain)}")
    return found


def imports_from_outside(
    graph: grimp.ImportGraph, package: str, root: str, allowed: Iterable[str] = ()
) -> list[str]:
    """Imports from ``package`` of modules of ``root`` outside ``package``, other than ``allowed``."""
    permitted = set(allowed)
    found = []
    for importer in within(graph, package):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            inside = imported == package or imported.startswith(package + ".")
            of_root = imported == root or imported.startswith(root + ".")
            if of_root and not inside and imported not in permitted:
                found.append(f"{importer} imports {imported}")
    return found
