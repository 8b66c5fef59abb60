"""NFR-2: uploads into storage through the TUS path (SupabaseStorage -> tuspy) on loopback.

    .venv/bin/python -m bench storage_upload
    BENCH_TUS_SIZES_MIB=50 .venv/bin/python -m bench storage_upload   # only the 50 MiB case

The server is the Supabase Storage stand-in of the tests (tuspyserver at
/storage/v1/upload/resumable under uvicorn), running in this process. Each upload runs in
a fresh child process, and the memory reported is that child's own peak RSS
(ru_maxrss of RUSAGE_SELF), not the server's.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, resource, sys, time
from shared.storage.supabase import SupabaseStorage
mode, source, url, key = sys.argv[1:5]
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
storage = SupabaseStorage(url, key, tus_retry_delay=0.05)
with open("/proc/self/status") as status:  # resident now, just before the upload (not the peak so far)
    before = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
start = time.perf_counter()
if mode == "put_file":
    stored = storage.put_file("bench/video/original.mp4", source, "video/mp4")
else:  # put: a request body streamed in 1 MiB reads, as POST /videos and imports do
    def body():
        with open(source, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                yield chunk
    stored = storage.put("bench/video/original.mp4", body(), "video/mp4")
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "size": stored.size, "peak_mb": peak, "baseline_mb": baseline,
                  "before_mb": before}))
"""


def _client(mode: str, source: Path, url: str, key: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _CHILD, mode, str(source), url, key], capture_output=True,
                          text=True, check=True, env=env, timeout=1800)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _random_file(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        left = size
        while left:
            chunk = os.urandom(min(8 * MIB, left))
            handle.write(chunk)
            left -= len(chunk)


def run() -> str:
    from tests.support.fault_proxy import FaultProxy
    from tests.support.supabase_storage import start_storage_server

    sizes = [int(s) for s in os.environ.get("BENCH_TUS_SIZES_MIB", "50,1024").split(",")]
    key = secrets.token_urlsafe(24)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-tus-") as work:
        server = start_storage_server(Path(work) / "server", service_key=key)
        try:
            for size_mib in sizes:
                source = Path(work) / f"{size_mib}.bin"
                _random_file(source, size_mib * MIB)
                for mode in ("put_file", "put"):
                    rows.append((f"{size_mib} MiB", f"`{mode}`", "none", _client(mode, source, server.url, key)))
                if size_mib <= 100:  # the same upload with three connections broken off mid-part
                    proxy = FaultProxy(server.port, cut_at=[size_mib * MIB // 4 + 12_345,
                                                            size_mib * MIB // 2 + 777, 3 * size_mib * MIB // 4])
                    try:
                        rows.append((f"{size_mib} MiB", "`put_file`", "3 drops",
                                     _client("put_file", source, proxy.url, key)))
                    finally:
                        proxy.stop()
                source.unlink()
        finally:
            server.stop()

    lines = [
        "## Storage: uploads through the TUS path (NFR-2)",
        "",
        f"Setup: `SupabaseStorage` (TUS through `tuspy`, 6 MiB parts) uploading random bytes to the Supabase "
        f"Storage stand-in (`tuspyserver` under uvicorn, tests/support/supabase_storage.py) on loopback, "
        f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}. Each upload in a fresh client process; memory is "
        "that process's own peak RSS (ru_maxrss); imports alone peak higher than they settle, so the RSS just "
        "before the upload is shown too: the upload's own working set is the peak minus that. "
        "`put_file` uploads a file on disk (renditions); `put` takes a stream "
        "(request bodies, imports) and spools it to a temporary file first, because TUS needs the length up "
        "front. Drops: a TCP proxy breaks three connections off mid-part; the client resumes from the "
        "server's Upload-Offset.",
        "",
        "| size | call | faults | time | throughput | client peak RSS | peak RSS after imports | RSS before upload |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, call, faults, result in rows:
        lines.append(f"| {size} | {call} | {faults} | {result['seconds']:.2f} s | "
                     f"{result['size'] / MIB / result['seconds']:.0f} MiB/s | {result['peak_mb']:.0f} MB | "
                     f"{result['baseline_mb']:.0f} MB | {result['before_mb']:.0f} MB |")
    fifty = [r for s, _, f, r in rows if s == "50 MiB" and f == "none"]
    if fifty:
        verdict = "met" if max(r["seconds"] for r in fifty) < 30 else "MISSED"
        lines += ["", f"NFR-2 (50 MB into storage in under 30 s): **{verdict}** on loopback. A real upload is "
                  "bound by the user's uplink instead: 50 MB at 20 Mbit/s takes about 20 s."]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
