"""Import cycles in the product code (`shared/`, `functions/`), the measure in docs/architecture.md.

    .venv/bin/python -m bench.import_cycles

Reads every import statement with grimp (at module level, inside functions and under
TYPE_CHECKING alike: a deferred import is still an arrow) and counts

- file pairs: two files that import each other;
- file cycles: groups of files that reach each other through imports (strongly connected
  components of the file graph; a pair is the smallest);
- package cycles: the same over packages, a package being `shared.<name>` or `functions`.

Not a benchmark (no `run()`): `make bench` does not write it into BENCHMARKS.md.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import grimp

PRODUCT = ("shared", "functions")

Graph = Mapping[str, set[str]]


@dataclass(frozen=True)
class Cycles:
    file_pairs: list[tuple[str, str]]
    file_cycles: list[list[str]]
    package_cycles: list[list[str]]


def file_graph(packages: Iterable[str] = PRODUCT) -> dict[str, set[str]]:
    graph = grimp.build_graph(*packages, cache_dir=None)  # a stale cache would miscount
    return {module: set(graph.find_modules_directly_imported_by(module)) for module in sorted(graph.modules)}


def package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "shared" else parts[0]


def package_graph(files: Graph) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {package_of(module): set() for module in files}
    for module, imported in files.items():
        packages[package_of(module)] |= {package_of(other) for other in imported} - {package_of(module)}
    return packages


def strongly_connected(graph: Graph) -> list[list[str]]:
    """Groups of two or more nodes that reach each other (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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
    return sorted(groups)


def cycles(packages: Iterable[str] = PRODUCT) -> Cycles:
    files = file_graph(packages)
    pairs = sorted({(a, b) if a < b else (b, a) for a, imported in files.items() for b in imported
                    if a != b and a in files.get(b, ())})
    return Cycles(pairs, strongly_connected(files), strongly_connected(package_graph(files)))


def main() -> int:
    found = cycles()
    print(f"file pairs importing each other: {len(found.file_pairs)}")
    for a, b in found.file_pairs:
        print(f"  {a} <-> {b}")
    print(f"file cycles: {len(found.file_cycles)} ({sum(map(len, found.file_cycles))} files in them)")
    for group in found.file_cycles:
        print(f"  {len(group)} files: {', '.join(group)}")
    print(f"package cycles: {len(found.package_cycles)}")
    for group in found.package_cycles:
        print(f"  {', '.join(group)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
