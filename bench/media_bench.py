"""Media benchmarks: streaming a 1 GB video into the local storage backend, and probing it.

    BENCH_MEDIA_MB=1024 .venv/bin/python -m bench media_bench

Each measurement runs in a fresh child process, so peak memory (ru_maxrss) is that of
the operation alone plus the interpreter and imports (reported separately as baseline).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1024 * 1024

_CHILD = r"""
import json, resource, sys, time
from shared.storage.local import LocalStorage
from shared.media.probe import probe_file, probe_stream
mode, source, root = sys.argv[1], sys.argv[2], sys.argv[3]
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if mode == "upload":
    storage = LocalStorage(root, signing_key=b"bench-only-key")
    def body():  # what the upload endpoint does with a request body: 1 MiB reads
        with open(source, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                yield chunk
    start = time.perf_counter()
    stored = storage.put("bench/video/original.mp4", body(), "video/mp4", max_bytes=2 * 1024**3)
    seconds = time.perf_counter() - start
    result = {"seconds": seconds, "size": stored.size}
else:
    class Counting:
        def __init__(self, handle):
            self.handle, self.read_bytes = handle, 0
        def read(self, n=-1):
            data = self.handle.read(n)
            self.read_bytes += len(data)
            return data
        def seek(self, offset, whence=0):
            return self.handle.seek(offset, whence)
        def tell(self):
            return self.handle.tell()
    import os
    size = os.path.getsize(source)
    times = []
    for _ in range(5):
        with open(source, "rb") as raw:
            counting = Counting(raw)
            start = time.perf_counter()
            probe = probe_stream(counting, size, source)
            times.append(time.perf_counter() - start)
    result = {"seconds": sorted(times)[len(times) // 2], "best": min(times), "read_bytes": counting.read_bytes,
              "faststart": probe.faststart, "duration_s": probe.duration_s, "size": size}
result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
result["baseline_mb"] = baseline
print(json.dumps(result))
"""


def _child(mode: str, source: Path, root: Path) -> dict:
    project = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", _CHILD, mode, str(source), str(root)], cwd=project,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run() -> str:
    from shared.media.samples import make_large

    size_mb = int(os.environ.get("BENCH_MEDIA_MB", "1024"))
    workdir = Path(tempfile.mkdtemp(prefix="bench-media-"))
    rows_probe = []
    try:
        started = time.perf_counter()
        video = make_large(workdir / "large.mp4", size_mb * MIB)
        made_in = time.perf_counter() - started
        size = video.stat().st_size
        upload = _child("upload", video, workdir / "storage")
        rows_probe.append(("moov at the front (+faststart)", _child("probe", video, workdir)))
        shutil.rmtree(workdir / "storage", ignore_errors=True)
        video.unlink()
        late = make_large(workdir / "late.mp4", size_mb * MIB, faststart=False)
        rows_probe.append(("moov at the end", _child("probe", late, workdir)))
        late.unlink()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    throughput = upload["size"] / MIB / upload["seconds"]
    lines = [
        "## Media: upload into local storage and probe (1 GB)",
        "",
        f"Setup: a valid {size / MIB:.0f} MiB 1080x1920 H.264 MP4 (generated in {made_in:.1f} s by "
        "`shared.media.samples.make_large`), local storage backend on this machine's disk, "
        f"{os.cpu_count()} CPUs. Each measurement in a fresh process; memory is peak RSS (ru_maxrss).",
        "",
        "| operation | time | throughput | peak memory | interpreter + imports |",
        "|---|---|---|---|---|",
        f"| `LocalStorage.put`, streamed in 1 MiB chunks (sha256 on the way) | {upload['seconds']:.2f} s | "
        f"{throughput:.0f} MiB/s | {upload['peak_mb']:.0f} MB | {upload['baseline_mb']:.0f} MB |",
    ]
    lines += ["", "| probe (`probe_stream`, median of 5) | time | bytes read | share of file | peak memory |",
              "|---|---|---|---|---|"]
    for label, result in rows_probe:
        lines.append(
            f"| {label} | {result['seconds'] * 1000:.0f} ms | {result['read_bytes'] / MIB:.2f} MiB | "
            f"{100 * result['read_bytes'] / result['size']:.3f} % | {result['peak_mb']:.0f} MB |"
        )
    goal_upload = "met" if upload["peak_mb"] - upload["baseline_mb"] < 100 else "MISSED"
    goal_probe = "met" if all(r["seconds"] < 1 for _, r in rows_probe) else "MISSED"
    lines += ["", f"Goals: upload memory flat and < 100 MB above baseline: **{goal_upload}**; "
              f"probe < 1 s without reading the whole file: **{goal_probe}**."]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
