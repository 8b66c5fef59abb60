"""Run the benchmarks and write their sections into BENCHMARKS.md.

    .venv/bin/python -m bench                 # every benchmark (what `make bench` runs)
    .venv/bin/python -m bench youtube_upload  # only the named ones

A benchmark is a module `bench/<name>.py` with `run() -> str` returning its
markdown section. Each section is kept between `<!-- bench:<name> -->` markers,
so one benchmark's run replaces only its own section and leaves the others.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from pathlib import Path

import bench

REPORT = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
HEADER = "# Benchmarks\n\nWritten by `make bench` (`.venv/bin/python -m bench`). Each section names its setup.\n"


def discover() -> list[str]:
    names = []
    for module in pkgutil.iter_modules(bench.__path__):
        if module.name.startswith("_"):
            continue
        if hasattr(importlib.import_module(f"bench.{module.name}"), "run"):
            names.append(module.name)
    return sorted(names)


def write_section(report: str, name: str, section: str) -> str:
    block = f"<!-- bench:{name} -->\n{section.strip()}\n<!-- /bench:{name} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    if pattern.search(report):
        return pattern.sub(lambda _: block, report)
    return report.rstrip() + "\n\n" + block + "\n"


def main(argv: list[str]) -> int:
    available = discover()
    wanted = argv or available
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        print(f"unknown benchmarks: {', '.join(unknown)} (available: {', '.join(available)})", file=sys.stderr)
        return 2
    for name in wanted:
        print(f"== {name}", flush=True)
        section = importlib.import_module(f"bench.{name}").run()
        print(section, flush=True)
        report = REPORT.read_text() if REPORT.exists() else HEADER
        REPORT.write_text(write_section(report, name, section))
    print(f"wrote {REPORT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
