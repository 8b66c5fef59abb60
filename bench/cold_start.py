"""Cold start per function: import time, CPU time and RSS of `import functions.<name>` in a fresh process.

    .venv/bin/python -m bench cold_start
    COLD_START_BEFORE=<commit> .venv/bin/python -m bench cold_start   # and that commit's tree beside it

Each function module is imported in several fresh interpreters (what a new Cloud
Functions instance does before its first request). Reported per function: the wall
time of the import (median), its CPU time (user + sys, median; steadier than wall
time on a shared machine), the process's RSS right after the import (median), how
many modules it loaded, and which of the heavy libraries below it loaded: a
regression (a module-level import of PyAV, yake, a platform package, ...) shows as
a new name in that column even when the machine is too busy for the times to tell.
Goals (issue 18): every function under 250 ms of CPU and 64 MB, judged on the import.

Deferring a route's service to its first request moves that cost, so a second figure is
measured in the same fresh process right after the import: the imports the first request
of one representative route makes (`FIRST_REQUEST`: what its handler reads through the
function's lazy modules, the sign-in check, the database, the runtime, and the route's
models from the route table). It leaves out what is not an import (connecting to the
database, the query itself), so it is the floor of a cold instance's first answer.

With COLD_START_BEFORE, the named commit's tree (git archive into a temporary folder,
same interpreter and packages) is measured too, its runs alternating with this tree's,
so both columns see the same machine load.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Fresh interpreters per function; the functions are measured in rounds (each round imports every one), so
# a busy moment on a shared machine lands on all of them alike instead of on whichever ran then.
RUNS = int(os.environ.get("COLD_START_RUNS", "15"))
GOAL_MS = 250.0
GOAL_MB = 64.0

# Libraries a function should load only when a request needs them, with the name the table shows.
HEAVY = {
    "av": "PyAV",
    "PIL": "Pillow",
    "numpy": "numpy",
    "yake": "yake",
    "google.genai": "google-genai",
    "google.cloud.tasks_v2": "Cloud Tasks client",
    "cryptography": "cryptography",
    "psycopg": "psycopg",
    "httpx": "httpx",
    "shared.platforms.registry": "platform packages",
    "shared.publishing.requests": "publish request models",
    "shared.responses": "response models",
}

# What the first request of one representative route imports, per function: the route (its models are
# loaded from the route table) and the modules its handler reaches. Shared by most: the sign-in check
# (PyJWT), the database (psycopg), the runtime (shared.wiring: queue, vault, platforms).
_SIGNED_IN = ("shared.auth", "shared.db.database")
FIRST_REQUEST: dict[str, tuple[str, tuple[str, ...]]] = {
    "analytics": ("GET /analytics/recommendations",
                  (*_SIGNED_IN, "shared.wiring", "shared.analytics.insights", "shared.analytics.settings")),
    "captions": ("POST /captions", (*_SIGNED_IN, "shared.captions.models", "shared.captions.service")),
    "connections": ("GET /connections", (*_SIGNED_IN, "shared.connections.service")),
    "health": ("GET /health", ("shared.db.database",)),
    "me": ("GET /me/notifications", (*_SIGNED_IN, "shared.notify.preferences")),
    "oauth": ("POST /oauth/start/{platform}",
              (*_SIGNED_IN, "shared.connections.vault", "shared.api.requests", "shared.connections.flow")),
    "ops": ("", ("shared.db.database", "shared.ops.access", "shared.ops.metrics")),
    "platforms": ("GET /platforms", (*_SIGNED_IN, "shared.wiring", "shared.api.catalog")),
    "publish_video": ("POST /publish-video", (*_SIGNED_IN, "shared.wiring", "shared.publishing.service",
                                              "shared.publishing.requests")),
    "publish_worker": ("", ("shared.db.database", "shared.wiring", "shared.publishing.worker")),
    "scheduler_tick": ("", ("shared.db.database", "shared.scheduler")),
    "videos": ("GET /videos", (*_SIGNED_IN, "shared.storage", "shared.videos")),
    "webhook_delivery": ("", ("shared.db.database", "shared.webhooks.delivery")),
    "webhooks": ("GET /webhooks", (*_SIGNED_IN, "shared.webhooks.endpoints")),
}

# Runs inside the fresh interpreter: time and CPU around the one import, RSS after it; then the same
# around the first request's imports (argv[3]: the route key, argv[4]: the modules; none: skipped).
_PROBE = """
import json, resource, sys, time
def cpu_now():
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime
def rss_mb():
    return next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmRSS:')) / 1024
start_wall, start_cpu = time.perf_counter(), cpu_now()
import importlib
importlib.import_module(sys.argv[1])
wall = time.perf_counter() - start_wall
cpu = cpu_now() - start_cpu
rss = rss_mb()
heavy = [name for name in json.loads(sys.argv[2]) if name in sys.modules]
found = {"wall": wall, "cpu": cpu, "rss_mb": rss, "modules": len(sys.modules), "heavy": heavy}
if len(sys.argv) > 3:
    route, modules = sys.argv[3], json.loads(sys.argv[4])
    start_cpu = cpu_now()
    for module in modules:
        importlib.import_module(module)
    if route:
        from shared.api.routes import ROUTES
        for ref in next(r for r in ROUTES if r.key == route).model_refs():
            ref.load()
    found["first_cpu"] = cpu_now() - start_cpu
    found["first_rss_mb"] = rss_mb()
print(json.dumps(found))
"""


def function_modules() -> list[str]:
    return sorted(f"functions.{path.stem}" for path in (ROOT / "functions").glob("*.py") if path.stem != "__init__")


@dataclass(frozen=True)
class Import:
    """One module's import in fresh interpreters: medians, and the heavy libraries it loaded."""

    wall_ms: float
    cpu_ms: float
    rss_mb: float
    modules: int
    heavy: tuple[str, ...]
    # The first request's imports after it (CPU) and the RSS then; None where not measured.
    first_cpu_ms: float | None = None
    first_rss_mb: float | None = None


def _sample(module: str, root: Path, first_request: bool = False) -> dict[str, Any]:
    """One import in a fresh interpreter started in `root` (its `shared/` and `functions/` come first on the path)."""
    args = [sys.executable, "-c", _PROBE, module, json.dumps(list(HEAVY))]
    name = module.removeprefix("functions.")
    if first_request and name in FIRST_REQUEST:
        route, modules = FIRST_REQUEST[name]
        args += [route, json.dumps(list(modules))]
    done = subprocess.run(args, cwd=root, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _summary(samples: list[dict[str, Any]]) -> Import:
    return Import(wall_ms=statistics.median(s["wall"] for s in samples) * 1000,
                  cpu_ms=statistics.median(s["cpu"] for s in samples) * 1000,
                  rss_mb=statistics.median(s["rss_mb"] for s in samples),
                  modules=round(statistics.median(s["modules"] for s in samples)),
                  heavy=tuple(HEAVY[name] for name in samples[-1]["heavy"]),
                  first_cpu_ms=statistics.median(s["first_cpu"] for s in samples) * 1000
                  if all("first_cpu" in s for s in samples) else None,
                  first_rss_mb=statistics.median(s["first_rss_mb"] for s in samples)
                  if all("first_rss_mb" in s for s in samples) else None)


def measure(module: str, runs: int = RUNS) -> Import:
    return _summary([_sample(module, ROOT, first_request=True) for _ in range(runs)])


def measure_in_rounds(modules: list[str], before: Path | None,
                      runs: int = RUNS) -> dict[str, tuple[Import | None, Import]]:
    """Every module's import, `runs` rounds of all of them; in each, the `before` tree's run next to this one's."""
    then: dict[str, list[dict[str, Any]]] = {module: [] for module in modules}
    now: dict[str, list[dict[str, Any]]] = {module: [] for module in modules}
    for _ in range(runs):
        for module in modules:
            if before is not None:
                then[module].append(_sample(module, before))
            now[module].append(_sample(module, ROOT, first_request=True))
    return {module: (_summary(then[module]) if before is not None else None, _summary(now[module]))
            for module in modules}


def _tree_at(commit: str, folder: Path) -> Path:
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    # Bytecode written ahead, as in this tree: the first import must not be the one that compiles.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(folder / "shared"), str(folder / "functions")],
                   check=True)
    return folder


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _first_request(module: str, found: Import) -> str:
    route = FIRST_REQUEST.get(module.removeprefix("functions."), ("", ()))[0] or "its one endpoint"
    if found.first_cpu_ms is None or found.first_rss_mb is None:
        return f"{route}: - | - "
    return (f"{route}: +{found.first_cpu_ms:.0f} ms | {found.cpu_ms + found.first_cpu_ms:.0f} ms, "
            f"{found.first_rss_mb:.1f} MB ")


def _row(module: str, found: Import, before: Import | None) -> str:
    then = f"{before.cpu_ms:.0f} / {before.rss_mb:.1f} / {before.modules} | " if before else ""
    return (f"| `{module}` | {then}{found.wall_ms:.0f} | {found.cpu_ms:.0f} | {found.rss_mb:.1f} | {found.modules} "
            f"| {', '.join(found.heavy) or '-'} | {'yes' if found.cpu_ms < GOAL_MS else 'no'} "
            f"| {'yes' if found.rss_mb < GOAL_MB else 'no'} | {_first_request(module, found)}|")


def run() -> str:
    before_commit = os.environ.get("COLD_START_BEFORE", "").strip()
    with tempfile.TemporaryDirectory(prefix="cold-start-before-") as folder:
        before_tree = _tree_at(before_commit, Path(folder)) if before_commit else None
        return _report(before_commit, before_tree)


def _report(before_commit: str, before_tree: Path | None) -> str:
    load_before = _load()
    baseline = measure("json")  # the interpreter alone (json is imported by the probe anyway)
    framework = measure("functions_framework")
    measured = measure_in_rounds(function_modules(), before_tree)
    rows = [_row(module, now, then) for module, (then, now) in measured.items()]
    before_head = f"Before ({before_commit}): CPU ms / MB / modules | " if before_commit else ""
    before_rule = "---|" if before_commit else ""
    command = f"COLD_START_BEFORE={before_commit} " if before_commit else ""
    beside = (f" The before column is commit {before_commit}'s tree, its runs alternating with this tree's."
              if before_commit else "")
    return "\n".join([
        "## Cold start per function",
        "",
        f"Command: `{command}.venv/bin/python -m bench cold_start`. Each `functions/<name>.py` imported in "
        f"{RUNS} fresh interpreters, in {RUNS} rounds over all the functions; medians.{beside} Wall time is noisy "
        "on a shared machine; CPU time (user + sys of "
        "the import) is the steadier figure and the one the goal is judged on. Goals: < 250 ms CPU and "
        f"< 64 MB RSS per function. Machine: {os.cpu_count()} CPU(s), load average {load_before} at the start and "
        f"{_load()} at the end.",
        "",
        f"- The bare interpreter (probe only): {baseline.rss_mb:.1f} MB RSS.",
        "- `import functions_framework` alone (it imports flask, werkzeug, jinja2 and click; every function "
        f"pays it, and it counts towards the goal): {framework.cpu_ms:.0f} ms CPU, {framework.wall_ms:.0f} ms wall, "
        f"{framework.rss_mb:.1f} MB, {framework.modules} modules.",
        "",
        f"| Function | {before_head}Import wall (ms) | Import CPU (ms) | RSS after import (MB) | Modules loaded "
        "| Heavy libraries loaded at import | < 250 ms CPU | < 64 MB "
        "| First request's imports (route: CPU) | Import + first request (CPU, RSS) |",
        f"|---|{before_rule}---:|---:|---:|---:|---|---|---|---|---|",
        *rows,
        "",
        "The goal is judged on the import (the CPU and RSS columns). The last two columns are what deferring "
        "moved to the first request: the imports the first request of one route makes in the same process "
        "after the import (the handler's service through the function's lazy modules, `shared/api/lazy.py`; "
        "the sign-in check with PyJWT; psycopg; the runtime with the platform packages where the route uses "
        "it; the route's request and response models), and import plus those together. Not in it: connecting "
        "to the database and the work of the request itself.",
        "",
        "What every function pays at import: `functions_framework` (above), pydantic, structlog and the "
        "dispatcher with the route table; the settings classes (pydantic-settings, ~30 ms) load when a request "
        "first asks the application for a setting. `functions.health` is that floor (it imports no service), "
        "and every other function's module adds a few small modules and a few ms to it (the modules column), "
        "so rows that differ by less than ~30 ms differ by the machine's noise (this is a virtual machine "
        "whose CPU time for the same import varies by a quarter between runs). A function "
        "module names its routes' services with `lazy_module(...)` (the type checker sees the real modules), so "
        "none loads psycopg, httpx, the platform packages, the publish request models or the response models "
        "at import (the heavy-libraries column); each route's first request imports what its handler uses. "
        "Loaded only when a request needs them: PyAV and Pillow (probe, convert, covers, posters), yake with "
        "numpy (the local caption writer), google-genai (Gemini), the Cloud Tasks client.",
    ])


if __name__ == "__main__":
    print(run())
