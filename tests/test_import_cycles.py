"""The import-cycle measure (bench/import_cycles.py, grimp) and the cycles already broken.

`python -m bench.import_cycles` prints every file and package cycle of shared/ and functions/
(docs/architecture.md quotes the numbers).
"""

from __future__ import annotations

from bench.import_cycles import cycles, file_graph, package_graph, strongly_connected

# The platforms' and connections' area is held at zero cycles, between packages and between files.
PLATFORM_AREA = ("shared.platforms", "shared.connections")
# Package arrows outside that area that still close a cycle through it; ignored here so the test
# guards everything else. May only shrink (the next test fails when one is gone).
KNOWN_BACK_ARROWS = {
    # The options models build on shared/api/strict.py (StrictModel, UserText), while shared.api
    # serves the catalog from the platforms: strict.py belongs below both.
    ("shared.platforms", "shared.api"),
    # connections/store.py and flow.py read the vault and the settings from the composition root.
    ("shared.connections", "shared.app"),
    # notify/templates.py and outbox.py read the settings from the composition root.
    ("shared.notify", "shared.app"),
    # notify/outcomes.py words its mail with publishing's summary, while publishing marks
    # connections expired (which mails the user).
    ("shared.notify", "shared.publishing"),
}


def test_the_counter_finds_a_cycle_of_any_length_and_only_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": {"c"}}) == []
    assert strongly_connected(package_graph({"shared.x.one": {"shared.y.two"}, "shared.y.two": {"shared.x.three"},
                                             "shared.x.three": set()})) == [["shared.x", "shared.y"]]


def test_the_local_stack_and_the_local_storage_are_in_no_file_cycle():
    in_a_cycle = {module for group in cycles().file_cycles for module in group}
    for module in ("shared.local.stack", "shared.local.demo", "shared.local.run",
                   "shared.storage.local", "shared.storage.local_server"):
        assert module not in in_a_cycle, module


def test_no_package_cycle_runs_through_the_platforms_or_the_connections() -> None:
    packages = package_graph(file_graph())
    for source, target in KNOWN_BACK_ARROWS:
        packages.get(source, set()).discard(target)
    assert [group for group in strongly_connected(packages) if set(group) & set(PLATFORM_AREA)] == []


def test_the_known_back_arrows_still_exist() -> None:
    packages = package_graph(file_graph())
    assert [arrow for arrow in sorted(KNOWN_BACK_ARROWS) if arrow[1] not in packages.get(arrow[0], set())] == []


def test_no_file_cycle_inside_the_platforms_or_the_connections() -> None:
    files = file_graph()
    for area in PLATFORM_AREA:
        inside = {module: {m for m in imported if m.startswith(area + ".")}
                  for module, imported in files.items() if module == area or module.startswith(area + ".")}
        assert strongly_connected(inside) == [], area
