"""One composition root: shared/app.py holds the only process-level state in `shared/`.

Scans every module of `shared/` with `ast` for what made a module a hidden singleton or made
it read the environment at import time:
- a module-level function cached without arguments (`@lru_cache` / `@cache`: a lazily built singleton),
- a `global` statement (module state assigned later),
- a call at module level or in a class body that reads the environment or loads settings
  (`os.environ`, `os.getenv`, `load(...)`, `<...>Settings()`).
Caches of pure functions of their arguments (word stems, say) are not state and are allowed.

It also scans for a hidden second clock: a service that falls back to the wall clock when its
caller passes no time (`now or datetime.now(UTC)`, `time.time() if now is None else now`). The
caller passes `now`: the application's clock at the edge, the runtime's clock in the pipeline.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.app import bootstrap

ROOT = Path(__file__).resolve().parents[1]
COMPOSITION_ROOT = "shared/app.py"
CACHE_DECORATORS = {"lru_cache", "cache", "functools.lru_cache", "functools.cache"}

# Nothing is pending: platform settings (and the limits and quotas adapters derive from them) are
# read by the application on first use (shared/platforms/base.py SettingsDerived). Entries that no
# longer hold make the test fail, so the list only shrinks.
PENDING: set[tuple[str, str]] = set()


def _decorator_name(node: ast.expr) -> str:
    return ast.unparse(node.func if isinstance(node, ast.Call) else node)


def _reads_environment(call: ast.Call) -> bool:
    name = ast.unparse(call.func)
    return (name in ("os.getenv", "getenv", "load") or name.startswith(("os.environ", "environ"))
            or name.endswith("Settings"))


def _import_time_nodes(body: list[ast.stmt]) -> list[ast.AST]:
    """Statements that run when the module is imported: module level and class bodies, not functions."""
    found: list[ast.AST] = []
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.extend(node.decorator_list)
            found.extend(node.args.defaults + [d for d in node.args.kw_defaults if d is not None])
        elif isinstance(node, ast.ClassDef):
            found.extend(_import_time_nodes(node.body))
        elif isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            continue
        else:
            found.append(node)
    return found


def module_state(path: Path) -> set[tuple[str, str]]:
    """(file, what) for every piece of process-level state or import-time environment read in `path`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    found: set[tuple[str, str]] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            cached = [d for d in node.decorator_list if _decorator_name(d) in CACHE_DECORATORS]
            arguments = node.args.args + node.args.posonlyargs + node.args.kwonlyargs
            if cached and not arguments and not node.args.vararg and not node.args.kwarg:
                found.add((where, f"cached singleton {node.name}()"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.update((where, f"global {name}") for name in node.names)
    for statement in _import_time_nodes(tree.body):
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and _reads_environment(node):
                found.add((where, ast.unparse(node)))
            elif isinstance(node, ast.Attribute) and ast.unparse(node) == "os.environ":
                found.add((where, "os.environ"))
    return found


def test_shared_has_no_module_level_state_outside_the_composition_root() -> None:
    found: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "shared").rglob("*.py")):
        if path.relative_to(ROOT).as_posix() != COMPOSITION_ROOT:
            found |= module_state(path)
    assert found - PENDING == set()
    assert PENDING - found == set(), "remove these from PENDING: they are gone"


def test_the_scan_sees_each_kind_of_state(tmp_path: Path) -> None:
    sample = tmp_path / "probe.py"
    sample.write_text(
        "import os\nfrom functools import lru_cache\n\n"
        "TIMEOUT = os.environ.get('X')\n_x = None\n\n\n"
        "@lru_cache\ndef settings():\n    return 1\n\n\n"
        "@lru_cache(maxsize=64)\ndef stem(word):\n    return word\n\n\n"
        "def setter():\n    global _x\n    _x = 1\n\n\n"
        "class Adapter:\n    limits = load(Settings)\n"
    )
    found = {what for _, what in module_state(sample)}
    assert found == {"os.environ.get('X')", "os.environ", "cached singleton settings()", "global _x",
                     "load(Settings)"}


def test_an_application_builds_each_part_once_and_only_when_asked() -> None:
    moment = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    app = bootstrap(clock=lambda: moment, storage_settings=object())
    assert app.clock() == moment
    assert app.settings is app.settings
    assert "database" not in app._parts and "storage" not in app._parts
    with pytest.raises(TypeError, match="unknown application parts: databse"):
        bootstrap(databse=None)


def test_replace_keeps_what_was_given_and_rebuilds_what_was_built() -> None:
    moment = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    app = bootstrap(clock=lambda: moment)
    settings = app.settings
    other = app.replace(queue="the queue")
    assert other.clock() == moment and other.queue == "the queue"
    assert other.settings is not settings and other.settings == settings


# A wall-clock read: what a fallback would use instead of the clock the caller holds.
WALL_CLOCKS = {"datetime.now", "datetime.utcnow", "time.time", "time.time_ns", "utcnow", "_utcnow", "_now"}

# Nothing is pending: a step's job carries the worker's clock (`PublishJob.now`), and the platforms'
# error classifiers and usage gates take the time from their caller. Entries that no longer hold
# make the test fail, so the list only shrinks.
PENDING_FALLBACKS: set[tuple[str, str]] = set()


def _is_wall_clock(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and ast.unparse(node.func) in WALL_CLOCKS


def _none_test(test: ast.expr) -> str | None:
    """'is' or 'is not' when `test` is `<x> is None` / `<x> is not None`."""
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value is None):
        return {ast.Is: "is", ast.IsNot: "is not"}.get(type(test.ops[0]))
    return None


def clock_fallbacks(path: Path) -> set[tuple[str, str]]:
    """(file, expression) for every `x or <wall clock>` and `<wall clock> if x is None else x` in `path`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    found: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            if any(_is_wall_clock(value) for value in node.values[1:]):
                found.add((where, ast.unparse(node)))
        elif isinstance(node, ast.IfExp):
            fallback = {"is": node.body, "is not": node.orelse}.get(_none_test(node.test) or "")
            if fallback is not None and _is_wall_clock(fallback):
                found.add((where, ast.unparse(node)))
        elif isinstance(node, ast.If) and _none_test(node.test) == "is":
            for statement in node.body:
                if isinstance(statement, ast.Assign) and _is_wall_clock(statement.value):
                    found.add((where, f"if {ast.unparse(node.test)}: {ast.unparse(statement)}"))
    return found


def test_services_take_the_time_from_their_caller() -> None:
    found: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "shared").rglob("*.py")):
        if path.relative_to(ROOT).as_posix() != COMPOSITION_ROOT:
            found |= clock_fallbacks(path)
    assert found - PENDING_FALLBACKS == set(), "pass `now` from the caller instead of reading the wall clock"
    assert PENDING_FALLBACKS - found == set(), "remove these from PENDING_FALLBACKS: they are gone"


def test_the_scan_sees_each_kind_of_clock_fallback(tmp_path: Path) -> None:
    sample = tmp_path / "probe.py"
    sample.write_text(
        "import time\nfrom datetime import UTC, datetime\n\n\n"
        "def a(now=None):\n    return now or datetime.now(UTC)\n\n\n"
        "def b(now=None):\n    return time.time() if now is None else now\n\n\n"
        "def c(now=None):\n    if now is None:\n        now = _utcnow()\n    return now\n\n\n"
        "def d(now):\n    return now + 1 if now is not None else 0\n\n\n"
        "def e(name=None):\n    return name or 'x'\n"
    )
    found = {what for _, what in clock_fallbacks(sample)}
    assert found == {"now or datetime.now(UTC)", "time.time() if now is None else now",
                     "if now is None: now = _utcnow()"}
