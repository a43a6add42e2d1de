"""An import-linter contract that import-linter 2.5 does not have: no import cycles.

The built-in ``layers`` and ``forbidden`` contracts (``.importlinter``) keep the rooms in
order *between* packages; a cycle *inside* a package (two modules that import each other,
however indirectly, even through an import moved into a function to dodge it) is what they
cannot see. This contract finds them as strongly connected components of the module graph
below each container, counting function-level imports: a lazy import that closes a cycle is
still a cycle (it only moves the failure from import time to call time). Imports under
``if TYPE_CHECKING:`` are left out by the session option ``exclude_type_checking_imports``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class AcyclicContract(Contract):
    """No import cycle among the modules below each of ``containers`` (packages, recursive).

    Configuration: ``containers``, the packages to check, each with all its descendants.
    """

    type_name = "acyclic"

    containers = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        cycles: list[list[dict[str, Any]]] = []
        for container in self.containers:  # type: ignore[attr-defined]
            modules = {container} | set(graph.find_descendants(container))
            for component in _strongly_connected(modules, graph):
                cycles.append(_describe(_one_cycle(component, graph), graph))
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles}, warnings=[])

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error("Import cycle:")
            output.new_line()
            for link in cycle:
                lines = ", ".join(f"l.{n}" for n in link["line_numbers"])
                output.indent_cursor()
                output.print_error(
                    f"{link['importer']} -> {link['imported']} ({lines})", bold=False
                )
            output.new_line()


def _edges(module: str, modules: set[str], graph: ImportGraph) -> Iterator[str]:
    for imported in sorted(graph.find_modules_directly_imported_by(module)):
        if imported in modules and imported != module:
            yield imported


def _strongly_connected(modules: set[str], graph: ImportGraph) -> Iterable[list[str]]:
    """Tarjan's algorithm, iterative; yields the components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in sorted(modules):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, _edges(root, modules, graph))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, _edges(successor, modules, graph)))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    yield sorted(component)


def _one_cycle(component: list[str], graph: ImportGraph) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first), for the report."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for successor in _edges(node, members, graph):
                if successor == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if successor not in previous:
                    previous[successor] = node
                    following.append(successor)
        frontier = following
    raise AssertionError(f"no cycle through {start} in its component")  # pragma: no cover


def _describe(cycle: list[str], graph: ImportGraph) -> list[dict[str, Any]]:
    links = []
    for importer, imported in itertools.pairwise(cycle):
        details = graph.get_import_details(importer=importer, imported=imported)
        links.append(
            {
                "importer": importer,
                "imported": imported,
                "line_numbers": sorted(d["line_number"] for d in details),
            }
        )
    return links
