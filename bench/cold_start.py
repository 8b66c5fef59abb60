"""Cold start per function: import time, CPU time and RSS of `import functions.<name>` in a fresh process.

    .venv/bin/python -m bench cold_start

Each function module is imported in several fresh interpreters (what a new Cloud
Functions instance does before its first request). Reported per function: the wall
time of the import (median), its CPU time (user + sys, median; steadier than wall
time on a shared machine), and the process's RSS right after the import (median).
Goals (issue 18): every function under 250 ms and 64 MB.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
GOAL_MS = 250.0
GOAL_MB = 64.0

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
print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": rss_kb / 1024, "modules": len(sys.modules)}))
"""


def function_modules() -> list[str]:
    return sorted(f"functions.{path.stem}" for path in (ROOT / "functions").glob("*.py") if path.stem != "__init__")


def measure(module: str, runs: int = RUNS) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", _PROBE, module], cwd=ROOT, capture_output=True, text=True,
                              check=True)
        samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(s[key] for s in samples) for key in ("wall", "cpu", "rss_mb", "modules")}


def run() -> str:
    baseline = measure("json")  # the interpreter alone (json is imported by the probe anyway)
    rows = []
    for module in function_modules():
        found = measure(module)
        fast = "yes" if found["wall"] * 1000 < GOAL_MS else "no"
        small = "yes" if found["rss_mb"] < GOAL_MB else "no"
        rows.append(
            f"| `{module}` | {found['wall'] * 1000:.0f} | {found['cpu'] * 1000:.0f} | {found['rss_mb']:.1f} "
            f"| {found['modules']:.0f} | {fast} | {small} |"
        )
    return "\n".join([
        "## Cold start per function",
        "",
        "Command: `.venv/bin/python -m bench cold_start`. Each `functions/<name>.py` imported in "
        f"{RUNS} fresh interpreters; medians. Wall time is noisy on a shared machine; CPU time (user + sys of "
        "the import) is the steadier figure. Goals: < 250 ms and < 64 MB per function.",
        f"The bare interpreter (probe only): {baseline['rss_mb']:.1f} MB RSS.",
        "",
        "| Function | Import wall (ms) | Import CPU (ms) | RSS after import (MB) | Modules loaded | < 250 ms "
        "| < 64 MB |",
        "|---|---:|---:|---:|---:|---|---|",
        *rows,
        "",
        "What every function pays: the interpreter, flask (with werkzeug, jinja2, click), pydantic and "
        "pydantic-settings (the settings classes are built at import), psycopg with its pool, and structlog. "
        "Kept out: httpx's command-line client (click, rich, pygments) and structlog's rich tracebacks; "
        "google-genai (loaded when Gemini answers); PyAV only in `videos` (media probing); the platform "
        "packages are loaded when a target of that platform runs. Over 64 MB: `captions` (yake and numpy "
        "for the local caption writer) and `videos` (PyAV).",
    ])


if __name__ == "__main__":
    print(run())
