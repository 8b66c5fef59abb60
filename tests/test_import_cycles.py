"""The import-cycle measure (bench/import_cycles.py, grimp) and the layers of docs/architecture.md.

`python -m bench.import_cycles` prints every file and package cycle of shared/ and functions/
(docs/architecture.md quotes the numbers).
"""

from __future__ import annotations

from bench.import_cycles import cycles, file_graph, package_graph, strongly_connected

COMPOSITION_ROOT = "shared.app"
# What sits above the composition root and may ask it for the process's application: the HTTP
# edge, the developer's tools and the entry points (docs/architecture.md, Layers).
ABOVE_THE_ROOT = ("functions", "shared.api", "shared.http", "shared.auth", "shared.cli", "shared.local")
# The layers of docs/architecture.md, top first: a module belongs to the first prefix it starts with;
# everything else (log, errors, strict models, db, storage, tasks, ...) is the base, below them all.
LAYERS = (
    (8, ("functions",)),
    (7, ("shared.local", "shared.localstack", "shared.cli")),
    (6, ("shared.api", "shared.http", "shared.auth")),
    (5, ("shared.app", "shared.wiring")),
    (4, ("shared.scheduler",)),
    (3, ("shared.analytics", "shared.webhooks", "shared.captions", "shared.accounts", "shared.ops", "shared.videos")),
    (2, ("shared.publishing",)),
    (1, ("shared.connections", "shared.media", "shared.notify", "shared.tasks")),
    (0, ("shared.platforms",)),
)
BASE = -1

# The platforms' and connections' area has no file cycle inside it either.
PLATFORM_AREA = ("shared.platforms", "shared.connections")


def layer_of(module: str) -> int:
    for level, prefixes in LAYERS:
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return level
    return BASE


def test_the_counter_finds_a_cycle_of_any_length_and_only_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": {"c"}}) == []
    assert strongly_connected(package_graph({"shared.x.one": {"shared.y.two"}, "shared.y.two": {"shared.x.three"},
                                             "shared.x.three": set()})) == [["shared.x", "shared.y"]]


def test_no_two_files_import_each_other():
    assert cycles().file_pairs == []


def test_the_local_stack_and_the_local_storage_are_in_no_file_cycle():
    in_a_cycle = {module for group in cycles().file_cycles for module in group}
    for module in ("shared.local.stack", "shared.local.demo", "shared.local.run",
                   "shared.storage.local", "shared.storage.local_server"):
        assert module not in in_a_cycle, module


def test_only_what_sits_above_the_composition_root_imports_it() -> None:
    """Everything below gets its parts (settings, vault, storage) from its caller, never from the root."""
    readers = sorted(module for module, imported in file_graph().items()
                     if COMPOSITION_ROOT in imported and not module.startswith(ABOVE_THE_ROOT))
    assert readers == []


def test_no_file_cycle_and_no_package_cycle() -> None:
    found = cycles()
    assert (found.file_pairs, found.file_cycles, found.package_cycles) == ([], [], [])


def test_no_file_cycle_inside_the_platforms_or_the_connections() -> None:
    files = file_graph()
    for area in PLATFORM_AREA:
        inside = {module: {m for m in imported if m.startswith(area + ".")}
                  for module, imported in files.items() if module == area or module.startswith(area + ".")}
        assert strongly_connected(inside) == [], area


def test_imports_go_down_the_layers() -> None:
    upward = sorted((module, other) for module, imported in file_graph().items() for other in imported
                    if layer_of(other) > layer_of(module))
    assert upward == []
