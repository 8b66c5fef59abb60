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
Goals (issue 18): every function under 250 ms of CPU and 64 MB.

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
RUNS = 7
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

# Runs inside the fresh interpreter: time and CPU around the one import, RSS after it.
_PROBE = """
import json, resource, sys, time
start_wall, start_cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
import importlib
importlib.import_module(sys.argv[1])
wall = time.perf_counter() - start_wall
end_cpu = resource.getrusage(resource.RUSAGE_SELF)
cpu = (end_cpu.ru_utime - start_cpu.ru_utime) + (end_cpu.ru_stime - start_cpu.ru_stime)
rss_kb = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmRSS:'))
heavy = [name for name in json.loads(sys.argv[2]) if name in sys.modules]
print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": rss_kb / 1024, "modules": len(sys.modules), "heavy": heavy}))
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


def _sample(module: str, root: Path) -> dict[str, Any]:
    """One import in a fresh interpreter started in `root` (its `shared/` and `functions/` come first on the path)."""
    done = subprocess.run([sys.executable, "-c", _PROBE, module, json.dumps(list(HEAVY))], cwd=root,
                          capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _summary(samples: list[dict[str, Any]]) -> Import:
    return Import(wall_ms=statistics.median(s["wall"] for s in samples) * 1000,
                  cpu_ms=statistics.median(s["cpu"] for s in samples) * 1000,
                  rss_mb=statistics.median(s["rss_mb"] for s in samples),
                  modules=round(statistics.median(s["modules"] for s in samples)),
                  heavy=tuple(HEAVY[name] for name in samples[-1]["heavy"]))


def measure(module: str, runs: int = RUNS) -> Import:
    return _summary([_sample(module, ROOT) for _ in range(runs)])


def measure_beside(module: str, before: Path, runs: int = RUNS) -> tuple[Import, Import]:
    """The import in the `before` tree and in this one, runs alternating: (before, now)."""
    then, now = [], []
    for _ in range(runs):
        then.append(_sample(module, before))
        now.append(_sample(module, ROOT))
    return _summary(then), _summary(now)


def _tree_at(commit: str, folder: Path) -> Path:
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    # Bytecode written ahead, as in this tree: the first import must not be the one that compiles.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(folder / "shared"), str(folder / "functions")],
                   check=True)
    return folder


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _row(module: str, found: Import, before: Import | None) -> str:
    then = f"{before.cpu_ms:.0f} / {before.rss_mb:.1f} / {before.modules} | " if before else ""
    return (f"| `{module}` | {then}{found.wall_ms:.0f} | {found.cpu_ms:.0f} | {found.rss_mb:.1f} | {found.modules} "
            f"| {', '.join(found.heavy) or '-'} | {'yes' if found.cpu_ms < GOAL_MS else 'no'} "
            f"| {'yes' if found.rss_mb < GOAL_MB else 'no'} |")


def run() -> str:
    before_commit = os.environ.get("COLD_START_BEFORE", "").strip()
    with tempfile.TemporaryDirectory(prefix="cold-start-before-") as folder:
        before_tree = _tree_at(before_commit, Path(folder)) if before_commit else None
        return _report(before_commit, before_tree)


def _report(before_commit: str, before_tree: Path | None) -> str:
    load_before = _load()
    baseline = measure("json")  # the interpreter alone (json is imported by the probe anyway)
    framework = measure("functions_framework")
    rows = []
    for module in function_modules():
        if before_tree is None:
            rows.append(_row(module, measure(module), None))
        else:
            then, now = measure_beside(module, before_tree)
            rows.append(_row(module, now, then))
    before_head = f"Before ({before_commit}): CPU ms / MB / modules | " if before_commit else ""
    before_rule = "---|" if before_commit else ""
    command = f"COLD_START_BEFORE={before_commit} " if before_commit else ""
    beside = (f" The before column is commit {before_commit}'s tree, its runs alternating with this tree's."
              if before_commit else "")
    return "\n".join([
        "## Cold start per function",
        "",
        f"Command: `{command}.venv/bin/python -m bench cold_start`. Each `functions/<name>.py` imported in "
        f"{RUNS} fresh interpreters; medians.{beside} Wall time is noisy on a shared machine; CPU time (user + sys of "
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
        "| Heavy libraries loaded at import | < 250 ms CPU | < 64 MB |",
        f"|---|{before_rule}---:|---:|---:|---:|---|---|---|",
        *rows,
        "",
        "What every function pays: `functions_framework` (above), pydantic and pydantic-settings (the settings "
        "classes are built at import) and structlog. The route table names its models by reference "
        "(`shared/api/routes.py`), so a function no longer builds every route's request and response models at "
        "import: it imports its own routes' models when a request first uses them (that cost moved to the first "
        "request of the route, e.g. `/health` loads `shared/responses.py` when it first answers). Loaded only "
        "when a request needs them: PyAV and Pillow (probe, convert, covers, posters), yake with numpy (the "
        "local caption writer), google-genai (Gemini), the Cloud Tasks client. What the other functions still "
        "load at import, from the services their handlers call (the column above): psycopg, httpx, the five "
        "platform packages (the registry), the publish request models (one model per platform) and the "
        "response models (`shared/responses.py`, one module).",
    ])


if __name__ == "__main__":
    print(run())
