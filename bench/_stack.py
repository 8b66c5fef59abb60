"""What the end-to-end benchmarks share: a throwaway database, the sandbox in its own process, a sample video.

A module whose name starts with `_` is not a benchmark (`python -m bench` skips it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` 0.95 for p95)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def start_sandbox_process(config: dict[str, Any]) -> tuple[subprocess.Popen[bytes], str]:
    """The platform sandbox in a process of its own (its work stays off the measured process), configured."""
    import httpx

    from shared.tasks.emulator import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "sandbox.server", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=PROJECT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.post(f"{url}/_sandbox/config", json=config, timeout=2).raise_for_status()
            return process, url
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the platform sandbox did not start") from None
            time.sleep(0.1)


@dataclass(frozen=True)
class BenchWorld:
    database_name: str
    db: Any             # shared.db.Database on the throwaway database
    sandbox_url: str
    sandbox_pid: int
    workdir: Path
    video: Path         # a 4 s 540x960 sample


@contextmanager
def bench_world(label: str, sandbox_config: dict[str, Any], *, pool_size: int) -> Iterator[BenchWorld]:
    """A migrated database of its own, the sandbox and a sample video; all of it gone afterwards."""
    from shared.db import Database, migrate
    from shared.db import local as localdb
    from shared.log import configure
    from shared.media.samples import make_video

    # Our JSON logs are still rendered (as in production) but not written to a terminal.
    configure("INFO", stream=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    admin = localdb.admin_url()
    name = f"shortpub_bench_{label}_{os.getpid()}"
    url = localdb.create_database(admin, name)
    sandbox, sandbox_url = start_sandbox_process(sandbox_config)
    try:
        migrate.apply(url, local=True)
        db = Database(url, min_size=2, max_size=pool_size)
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-{label}-"))
        video = make_video(workdir / "bench.mp4", seconds=4, width=540, height=960)
        try:
            yield BenchWorld(name, db, sandbox_url, sandbox.pid, workdir, video)
        finally:
            db.close()
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        localdb.drop_database(admin, name)
