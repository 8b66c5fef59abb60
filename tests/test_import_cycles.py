"""Import cycles, measured on the real import graph (grimp): between packages and between files.

`python tests/test_import_cycles.py` prints every package cycle of shared/ and functions/
(docs/architecture.md quotes the numbers). The tests hold the platforms' area at zero:
no cycle runs through `shared.platforms` or `shared.connections`, between packages or files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import grimp

MINE = ("shared.platforms", "shared.connections")
# Package arrows outside the platforms' area that still close a cycle through it (issue #11:
# their owners move them); ignored here so the test guards everything else. May only shrink.
KNOWN_BACK_ARROWS = {
    # The options models build on shared/api/strict.py (StrictModel, UserText), while shared.api
    # serves the catalog from the platforms: strict.py belongs below both.
    ("shared.platforms", "shared.api"),
    # connections/errors.py builds the HTTP answer (ApiError) of a connection error; the HTTP
    # mapping moves to the edge (issue #11 part 4).
    ("shared.connections", "shared.http"),
    # notify/outcomes.py words its mail with publishing's summary, while publishing marks
    # connections expired (which mails the user).
    ("shared.notify", "shared.publishing"),
}


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("shared", "functions", cache_dir=None)


def package_of(module: str) -> str:
    """`shared.platforms.tiktok.errors` -> `shared.platforms`; top-level modules are their own package."""
    return ".".join(module.split(".")[:2])


def package_edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            source, target = package_of(module), package_of(imported)
            if source != target:
                edges.setdefault(source, set()).add(target)
    return edges


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one node (Tarjan), each sorted; sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted({*edges, *(n for targets in edges.values() for n in targets)}):
        if node not in index:
            visit(node)
    return sorted(groups)


def module_edges(graph: grimp.ImportGraph, under: str) -> dict[str, set[str]]:
    return {module: {m for m in graph.find_modules_directly_imported_by(module) if m.startswith(under + ".")}
            for module in graph.find_descendants(under) | {under}}


def test_no_package_cycle_runs_through_the_platforms_or_the_connections() -> None:
    edges = package_edges(_graph())
    for source, target in KNOWN_BACK_ARROWS:
        edges[source].discard(target)
    through_mine = [group for group in cycles(edges) if set(group) & set(MINE)]
    assert through_mine == []


def test_the_known_back_arrows_still_exist() -> None:
    edges = package_edges(_graph())
    assert [arrow for arrow in sorted(KNOWN_BACK_ARROWS) if arrow[1] not in edges.get(arrow[0], set())] == []


def test_no_file_cycle_inside_the_platforms_or_the_connections() -> None:
    graph = _graph()
    assert [group for package in MINE for group in cycles(module_edges(graph, package))] == []


def test_cycles_finds_a_cycle_of_three_and_nothing_in_a_chain() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}}) == []


if __name__ == "__main__":
    found = cycles(package_edges(_graph()))
    print(f"package cycles in shared/ and functions/: {len(found)}")
    for group in found:
        print("  " + " <-> ".join(group))
