"""`make run` stops completely on Ctrl-C (SIGINT) and on SIGTERM: embedded PostgreSQL, the Cloud Tasks
emulator and every server, with no process and no port left behind.

The stack runs in a subprocess with its own .local directory (its own PostgreSQL data) and free ports
(LOCAL_PORTS=free), so it never meets a developer's `make run` or another test.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 240


def _stack_processes(parent: psutil.Process, local_dir: Path) -> list[psutil.Process]:
    """The stack's process and everything it started (PostgreSQL runs detached, found by its data dir)."""
    found = {parent.pid: parent}
    for child in parent.children(recursive=True):
        found[child.pid] = child
    for process in psutil.process_iter(["pid", "cmdline"]):
        if str(local_dir) in " ".join(process.info.get("cmdline") or []):
            found[process.pid] = process
    return list(found.values())


def _listening_ports(processes: list[psutil.Process]) -> set[int]:
    ports = set()
    for process in processes:
        try:
            for conn in process.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN:
                    ports.add(conn.laddr.port)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return ports


def _listening(ports: set[int]) -> set[int]:
    """Which of `ports` some process still listens on (connections in TIME_WAIT do not count)."""
    return {c.laddr.port for c in psutil.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN and c.laddr.port in ports}


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_local_stack_stops_everything(tmp_path, stop_signal) -> None:
    # A short path: PostgreSQL's socket lives in it, and socket paths are limited to about 100 bytes.
    local_dir = Path(tempfile.mkdtemp(prefix="sp-stack-"))
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "PYTEST_XDIST_WORKER")}
    env.update({"SHORTPUB_LOCAL_DIR": str(local_dir), "LOCAL_PORTS": "free", "LOCAL_DEMO": "0",
                "ENVIRONMENT": "local", "PYTHONUNBUFFERED": "1"})
    log = (tmp_path / "stack.out").open("w+")
    process = subprocess.Popen([sys.executable, "-m", "shared.localstack", "run"], cwd=ROOT, env=env,  # noqa: S603
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while "Serving." not in (tmp_path / "stack.out").read_text():
            assert process.poll() is None, (tmp_path / "stack.out").read_text()[-3000:]
            assert time.monotonic() < deadline, "the stack did not start in time"
            time.sleep(0.5)
        parts = _stack_processes(psutil.Process(process.pid), local_dir)
        ports = _listening_ports(parts)
        assert any("postgres" in " ".join(p.cmdline()) for p in parts), [p.cmdline() for p in parts]
        assert any("emulator" in " ".join(p.cmdline()).lower() or "gcloud" in " ".join(p.cmdline()).lower()
                   for p in parts), [p.cmdline() for p in parts]
        assert len(ports) >= 5, ports  # functions, sandbox, storage, SMTP, tasks emulator (and PostgreSQL)

        process.send_signal(stop_signal)
        assert process.wait(timeout=60) == 0
        time.sleep(0.5)
        left = [p for p in parts if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert left == [], [p.cmdline() for p in left]
        assert _listening(ports) == set()
        assert "Stopped: PostgreSQL, the Cloud Tasks emulator and every server are down." in \
            (tmp_path / "stack.out").read_text()
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
        shutil.rmtree(local_dir, ignore_errors=True)
