"""The import-cycle measure (bench/import_cycles.py) and the cycles already broken."""

from __future__ import annotations

from bench.import_cycles import cycles, package_graph, strongly_connected


def test_the_counter_finds_a_cycle_of_any_length_and_only_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert strongly_connected(package_graph({"shared.x.one": {"shared.y.two"}, "shared.y.two": {"shared.x.three"},
                                             "shared.x.three": set()})) == [["shared.x", "shared.y"]]


def test_the_local_stack_and_the_local_storage_are_in_no_file_cycle():
    found = cycles()
    in_a_cycle = {module for group in found.file_cycles for module in group}
    for module in ("shared.local.stack", "shared.local.demo", "shared.local.run",
                   "shared.storage.local", "shared.storage.local_server"):
        assert module not in in_a_cycle, module
