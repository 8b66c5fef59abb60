"""Immediate publish: request -> all four targets published, through the Cloud Tasks emulator.

    .venv/bin/python -m bench immediate_publish   # BENCH_IMMEDIATE_POSTS=20, BENCH_IMMEDIATE_FIXED_POSTS=5

The local stack of bench/pipeline_bench.py (functions-framework server, Cloud Tasks
emulator, sandbox in its own process, throwaway database), but with the sandbox's
default processing time (each platform takes `processing_seconds`, 0.2 s by default,
before it reports a video ready) and the adapters' default poll settings, i.e. what a
user of the local stack sees. Two runs side by side, each in a fresh process (the
settings are read at import):

- the processing curve (first status check after 1 s, doubling up to each platform's
  interval: shared/platforms/polling.py);
- fixed waits as before (every check at the platform's interval: TikTok 5 s,
  Instagram 15 s, Facebook 10 s, YouTube 5 s).

Per post: from just before `POST /publish-video` to the last of its four `published_at`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._stack import bench_world, percentile

CURVE_POSTS = int(os.environ.get("BENCH_IMMEDIATE_POSTS", "20"))
FIXED_POSTS = int(os.environ.get("BENCH_IMMEDIATE_FIXED_POSTS", "5"))
# The waits before the curve: the first check as late as every other one.
FIXED_WAITS_ENV = {
    "TIKTOK_POLL_FIRST_SECONDS": "5", "INSTAGRAM_POLL_FIRST_SECONDS": "15", "FACEBOOK_POLL_FIRST_SECONDS": "10",
    "BLOTATO_POLL_FIRST_SECONDS": "2", "YOUTUBE_PROCESSING_POLL_MIN_SECONDS": "5",
}


def child(posts: int) -> dict[str, Any]:
    from bench.pipeline_bench import SANDBOX_CONFIG, USERS, _user, _wait_all
    from tests.support.cloud_stack import CloudStack

    durations: list[float] = []
    # Budgets raised as in the pipeline benchmark; processing time left at the sandbox's default.
    config = {k: v for k, v in SANDBOX_CONFIG.items() if k != "processing_seconds"}
    with bench_world("immediate", config, pool_size=12) as world:
        db, sandbox_url, workdir, video_path = world.db, world.sandbox_url, world.workdir, world.video
        with CloudStack(db, sandbox_url, workdir / "storage") as stack:
            clients = [stack.client(_user(db, n), timeout=120) for n in range(min(USERS, posts))]
            for client in clients:
                for platform in ("tiktok", "instagram", "youtube", "facebook"):
                    client.connect(platform)
            videos = [client.upload(video_path) for client in clients]
            for n in range(posts):
                client, video = clients[n % len(clients)], videos[n % len(clients)]
                started_at = datetime.now(UTC)
                answer = client.publish(video)
                found = _wait_all(db, [answer["post_id"]], timeout=180)
                durations.append((found[answer["post_id"]][0] - started_at).total_seconds())
            for client in clients:
                client.close()
    return {"durations": durations, "cores": os.cpu_count()}


def _run_child(posts: int, extra_env: dict[str, str]) -> dict[str, Any]:
    from bench.pipeline_bench import BUDGET_ENV

    env = {**os.environ, **BUDGET_ENV, **extra_env, "ENVIRONMENT": "test", "LOG_LEVEL": "INFO"}
    out = subprocess.run([sys.executable, "-m", "bench.immediate_publish", "child", str(posts)],
                         cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"immediate publish benchmark failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _row(label: str, durations: list[float]) -> str:
    return (f"| {label} | {len(durations)} | {statistics.median(durations):.1f} s "
            f"| {percentile(durations, 0.95):.1f} s | {min(durations):.1f} s | {max(durations):.1f} s |")


def run() -> str:
    curve = _run_child(CURVE_POSTS, {})
    fixed = _run_child(FIXED_POSTS, FIXED_WAITS_ENV)
    return f"""## Immediate publish: request to all four published (sandbox's default processing)

Command: `.venv/bin/python -m bench immediate_publish` ({curve['cores']} cores, shared with other work).
The local stack through the Cloud Tasks emulator (which scans its queues every 100 ms); the sandbox
takes its default 0.2 s of processing per video; the adapters' default poll settings. Posts one after
another, each to TikTok, Instagram, YouTube and Facebook; from just before `POST /publish-video` to
the last target's `published_at`.

| status polls | posts | p50 | p95 | min | max |
|---|---:|---:|---:|---:|---:|
{_row("processing curve (1, 2, 4, ... s up to each platform's interval)", curve["durations"])}
{_row("fixed waits as before (TikTok 5 s, Instagram 15 s, Facebook 10 s, YouTube 5 s)", fixed["durations"])}
"""


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        print(json.dumps(child(int(sys.argv[2]))))
    else:
        print(run())
