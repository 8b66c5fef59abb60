"""The chaos test at benchmark size: never twice, never lost, never `failed` while live.

    .venv/bin/python -m bench chaos_bench    # BENCH_CHAOS_POSTS=200 (1,000 targets) by default

Runs tests/pipeline/test_chaos.py (real PostgreSQL, the sandbox over HTTP, the real
pipeline) with CHAOS_POSTS set, for each seed in BENCH_CHAOS_SEEDS, and reports what the
run met and what it found. The suite runs the same test at 40 posts (200 targets).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _one(posts: int, seed: int) -> tuple[bool, dict[str, object], float]:
    env = dict(os.environ, CHAOS_POSTS=str(posts), CHAOS_SEED=str(seed))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/pipeline/test_chaos.py", "-q", "-s"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    elapsed = time.monotonic() - started
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("chaos {")), None)
    figures: dict[str, object] = ast.literal_eval(line.removeprefix("chaos ")) if line else {}
    if done.returncode != 0:
        tail = "\n".join(done.stdout.splitlines()[-15:])
        figures["failure"] = tail
    return done.returncode == 0, figures, elapsed


def run() -> str:
    posts = int(os.environ.get("BENCH_CHAOS_POSTS", "200"))
    seeds = [int(s) for s in os.environ.get("BENCH_CHAOS_SEEDS", "20261130,1").split(",")]
    rows = []
    for seed in seeds:
        ok, figures, elapsed = _one(posts, seed)
        states = figures.get("states") or {}
        assert isinstance(states, dict)
        rows.append(
            f"| {seed} | {figures.get('targets', '?')} | {states.get('published', 0)} | {states.get('failed', 0)} "
            f"| {figures.get('deliveries', '?')} | {figures.get('faults_hit', '?')} | {figures.get('kills', '?')} "
            f"| {figures.get('reconnects', '?')} | {figures.get('simulated_hours', '?')} "
            f"| {figures.get('run_seconds', '?')} | {elapsed:.0f} | {'none' if ok else 'FOUND: see below'} |"
        )
        if not ok:
            rows.append(f"\n```\n{figures.get('failure')}\n```\n")
    return "\n".join([
        "## Chaos: never twice, never lost, never failed while live (`bench/chaos_bench.py`)",
        "",
        f"Command: `BENCH_CHAOS_POSTS={posts} .venv/bin/python -m bench chaos_bench` (runs "
        "`tests/pipeline/test_chaos.py` with `CHAOS_POSTS`; 5 targets per post, one per integration). "
        "Every task delivered 2-3 times, shuffled, on 6 worker threads; about 10% of platform calls fail "
        "(5xx, 429, timeouts, resets, expired tokens with reconnects, answers lost after the platform acted, "
        "the reconciliation's reads more often); workers die mid-call (before sending or after the answer); "
        "the tick runs on a controlled clock until every target is final. YouTube targets beyond the "
        "project's 100 uploads a day are refused at request time and not part of the run.",
        "",
        "| seed | targets | published | failed | deliveries | faults hit | workers killed | reconnects "
        "| simulated h | run s | wall s | double posts / lost / failed-but-live |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ])
