"""Resumable upload of a 1 GB file to the YouTube sandbox on loopback.

Compares, on the same file and the same sandbox endpoint:
  - curl --upload-file (one PUT to an upload session: the ceiling)
  - our YouTubeAdapter (start_upload + upload steps): default one streamed request, and 8 MiB chunks
  - google-api-python-client: MediaFileUpload(resumable=True, chunksize=-1) + videos().insert
Each client runs in its own child process; its peak RSS comes from the kernel
(wait4 rusage), and the sandbox runs in another process so its memory is not
counted. Every upload is checked: the sandbox must hold a video with the file's hash.

    .venv/bin/python -m bench youtube_upload        # writes the BENCHMARKS.md section
    BENCH_YOUTUBE_MB=256 BENCH_YOUTUBE_RUNS=1 ...   # smaller / fewer runs
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

MIB = 1024 * 1024
CHANNEL = "UCbenchChannel0000000001"


@dataclass
class Result:
    client: str
    seconds: list[float]
    peak_rss_kib: list[int]
    cpu_seconds: list[float]

    def throughput(self, size: int) -> float:
        """Median MiB/s over the runs."""
        return size / MIB / statistics.median(self.seconds)

    def best_throughput(self, size: int) -> float:
        return size / MIB / min(self.seconds)

    def cpu_per_gib(self, size: int) -> float:
        return statistics.median(self.cpu_seconds) * 1024 * MIB / size


# ------------------------------------------------------------------- child side


class LocalVideo:
    """A MediaSource over a local file (what the storage layer provides in production)."""

    content_type = "video/mp4"

    def __init__(self, path: str) -> None:
        self.path = path
        self.url = "file://" + path
        self.filename = Path(path).name
        self.size = os.path.getsize(path)

    def read_chunks(self, start: int = 0, chunk_size: int = 8 * MIB) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            handle.seek(start)
            while chunk := handle.read(chunk_size):
                yield chunk


def adapter_upload(path: str, api: str, token: str, chunk_bytes: int) -> Callable[[], str]:
    """Set up our adapter (imports, settings, client); the returned call uploads."""
    from shared.platforms.base import Credentials, PublishJob
    from shared.platforms.youtube import YouTubeAdapter, YouTubeSettings

    adapter = YouTubeAdapter(YouTubeSettings(api_base=api, upload_chunk_bytes=chunk_bytes))
    job = PublishJob(target_id="bench", credentials=Credentials(access_token=token, account_id=CHANNEL),
                     video=LocalVideo(path), caption="Benchmark upload", now=datetime.now(UTC))

    def upload() -> str:
        data: dict[str, Any] = {}
        for step in ("start_upload", "upload"):
            data.update(adapter.run_step(step, job, data).data)
        return str(data["video_id"])

    return upload


def google_client_upload(path: str, api: str, token: str) -> Callable[[], str]:
    """Set up Google's client as its upload_video.py sample does; the returned call uploads."""
    from google.oauth2.credentials import Credentials as GoogleCredentials
    from googleapiclient.discovery import build_from_document
    from googleapiclient.discovery_cache import get_static_doc
    from googleapiclient.http import MediaFileUpload

    # The static discovery document, re-rooted at the sandbox: `api_endpoint` alone
    # keeps the media path on the discovery document's https host.
    document = json.loads(get_static_doc("youtube", "v3") or "{}")
    document["rootUrl"] = api.rstrip("/") + "/"
    youtube = build_from_document(document, credentials=GoogleCredentials(token))

    def upload() -> str:
        media = MediaFileUpload(path, mimetype="video/mp4", chunksize=-1, resumable=True)
        request = youtube.videos().insert(
            part="snippet,status",
            body={"snippet": {"title": "Benchmark upload", "categoryId": "22"},
                  "status": {"privacyStatus": "private", "selfDeclaredMadeForKids": False}},
            media_body=media,
        )
        response = None
        while response is None:
            _, response = request.next_chunk()
        return str(response["id"])

    return upload


def child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--client", required=True, choices=("adapter", "google"))
    parser.add_argument("--file", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--chunk", type=int, default=0)
    args = parser.parse_args(argv)
    if args.client == "adapter":
        upload = adapter_upload(args.file, args.api, args.token, args.chunk)
    else:
        upload = google_client_upload(args.file, args.api, args.token)
    started, cpu_started = time.perf_counter(), time.process_time()   # the upload only, as for curl
    video_id = upload()
    print(json.dumps({"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu_started,
                      "video_id": video_id}), flush=True)


# ------------------------------------------------------------------ parent side


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _make_file(path: Path, size: int) -> str:
    block = os.urandom(MIB)
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        written = 0
        while written < size:
            piece = (written.to_bytes(8, "big") + block[8:])[: size - written]
            handle.write(piece)
            digest.update(piece)
            written += len(piece)
    return digest.hexdigest()


def _high_water_kib(pid: int) -> int | None:
    """The process's own peak resident memory (VmHWM), or None once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _wait_measured(process: subprocess.Popen[bytes]) -> tuple[int, int, float, bytes]:
    """Wait for a child: exit status, its own peak RSS (KiB), CPU seconds and its stdout (if piped).

    Peak memory is the child's VmHWM, read while it runs: `ru_maxrss` from wait4 starts at
    the parent's RSS at fork time on Linux, so a client forked from a large parent was shown
    at the parent's size (curl at 191 MiB after a big helper had run). VmHWM belongs to the
    process's own address space, starts afresh at exec and only grows, so the last reading
    before exit is its peak.
    """
    peak = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            found = _high_water_kib(process.pid)
            if found is not None:
                peak = max(peak, found)
            done.wait(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    output = process.stdout.read() if process.stdout is not None else b""
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    watcher.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, peak, usage.ru_utime + usage.ru_stime, output


class Sandbox:
    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.server", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.url}/_sandbox/published", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.2)
        httpx.post(f"{self.url}/_sandbox/config", json={"processing_seconds": 0, "youtube.daily_uploads": 10_000,
                                                         "youtube.channel_daily_uploads": 10_000})
        httpx.post(f"{self.url}/_sandbox/accounts", json={"platform": "youtube", "id": CHANNEL, "title": "Bench"})
        self.token = httpx.post(f"{self.url}/_sandbox/tokens", json={
            "platform": "youtube", "account_id": CHANNEL, "ttl": 24 * 3600}).json()["access_token"]

    @property
    def api(self) -> str:
        return f"{self.url}/googleapis"

    def published(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.url}/_sandbox/published", params={"platform": "youtube"}).json()["items"])

    def new_session(self, size: int) -> str:
        response = httpx.post(
            f"{self.api}/upload/youtube/v3/videos",
            params={"uploadType": "resumable", "part": "snippet,status"},
            headers={"Authorization": f"Bearer {self.token}", "X-Upload-Content-Length": str(size),
                     "X-Upload-Content-Type": "video/mp4"},
            json={"snippet": {"title": "Benchmark upload"}, "status": {"privacyStatus": "private"}},
        )
        response.raise_for_status()
        return response.headers["Location"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _run_curl(sandbox: Sandbox, path: Path, size: int) -> tuple[float, int, float]:
    session = sandbox.new_session(size)
    started = time.perf_counter()
    # `Expect:` off: the sandbox, like many servers, does not answer 100-continue.
    process = subprocess.Popen(
        ["curl", "-sS", "-f", "-o", "/dev/null", "-H", "Expect:", "-H", "Content-Type: video/mp4",
         "--upload-file", str(path), session],
    )
    code, rss, cpu, _ = _wait_measured(process)
    seconds = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"curl failed with exit code {code}")
    return seconds, rss, cpu


def _run_child(sandbox: Sandbox, path: Path, client: str, chunk: int) -> tuple[float, int, float]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.youtube_upload", "--client", client, "--file", str(path),
         "--api", sandbox.api, "--token", sandbox.token, "--chunk", str(chunk)],
        stdout=subprocess.PIPE,
    )
    code, rss, _, output = _wait_measured(process)
    if code != 0:
        raise RuntimeError(f"{client} upload failed with exit code {code}")
    # The last line is ours; structured logs may precede it on stdout.
    measured = json.loads(output.splitlines()[-1])
    return float(measured["seconds"]), rss, float(measured["cpu"])


def run() -> str:
    size = int(os.environ.get("BENCH_YOUTUBE_MB", "1024")) * MIB
    runs = int(os.environ.get("BENCH_YOUTUBE_RUNS", "5"))
    workdir = Path(tempfile.mkdtemp(prefix="bench-youtube-"))
    sandbox: Sandbox | None = None
    try:
        path = workdir / "upload.bin"
        expected_sha = _make_file(path, size)
        sandbox = Sandbox()
        clients: list[tuple[str, Any]] = [
            ("curl --upload-file (one PUT)", lambda: _run_curl(sandbox, path, size)),
            ("shortpub YouTubeAdapter, one streamed request (default)",
             lambda: _run_child(sandbox, path, "adapter", 0)),
            ("shortpub YouTubeAdapter, 8 MiB chunks (YOUTUBE_UPLOAD_CHUNK_BYTES=8388608)",
             lambda: _run_child(sandbox, path, "adapter", 8 * MIB)),
            ("google-api-python-client MediaFileUpload(resumable=True, chunksize=-1)",
             lambda: _run_child(sandbox, path, "google", 0)),
        ]
        results = [Result(name, [], [], []) for name, _ in clients]
        # Rounds interleave the clients, so a busy moment on the machine hits them alike.
        for _ in range(runs):
            for result, (name, upload) in zip(results, clients, strict=True):
                before = len(sandbox.published())
                seconds, rss, cpu = upload()
                after = sandbox.published()
                if len(after) != before + 1 or after[-1]["sha256"] != expected_sha:
                    raise RuntimeError(f"{name}: the sandbox did not receive identical bytes")
                result.seconds.append(seconds)
                result.peak_rss_kib.append(rss)
                result.cpu_seconds.append(cpu)
        return _report(results, size, runs)
    finally:
        if sandbox is not None:
            sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _report(results: list[Result], size: int, runs: int) -> str:
    curl = results[0]
    lines = [
        "## YouTube resumable upload (`bench/youtube_upload.py`)",
        "",
        f"Command: `make bench` (or `.venv/bin/python -m bench youtube_upload`). "
        f"A {size // MIB} MiB file uploaded to the YouTube sandbox (`python -m sandbox.server`, a separate "
        f"process) over loopback, {runs} interleaved round(s) of all clients. Each client runs in its own "
        "process; peak RSS is that process's own high-water mark (VmHWM from /proc, read while it runs; "
        "`ru_maxrss` would start at the benchmark's own size on Linux); client CPU is the upload's own "
        "CPU time (user + system). Every upload was checked: the sandbox holds a video with the file's "
        "SHA-256. Times include the sandbox (Python, one thread per request) spooling to disk and hashing "
        "the file, for every client alike: on loopback the sandbox, not the client, sets the pace, so "
        "client CPU per GiB is the steadier measure of the client's own cost.",
        "",
        f"Machine: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f} at the end, "
        f"Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}.",
        "",
        "| client | median MiB/s | best MiB/s | median vs curl | client CPU s/GiB | peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        ratio = result.throughput(size) / curl.throughput(size)
        lines.append(
            f"| {result.client} | {result.throughput(size):.0f} | {result.best_throughput(size):.0f} | "
            f"{ratio:.0%} | {result.cpu_per_gib(size):.2f} | {max(result.peak_rss_kib) / 1024:.0f} |"
        )
    adapter = results[1]
    ratio = adapter.throughput(size) / curl.throughput(size)
    peak = max(adapter.peak_rss_kib) / 1024
    lines += [
        "",
        f"Goals for the default adapter: at least 80% of curl's throughput: **{ratio:.0%}** "
        f"({'met' if ratio >= 0.8 else 'NOT met'}); peak RSS under 100 MB: **{peak:.0f} MiB** "
        f"({'met' if peak < 100 else 'NOT met'}).",
    ]
    return "\n".join(lines)


def main() -> None:
    print(run())


if __name__ == "__main__":
    if "--client" in sys.argv[1:]:
        child(sys.argv[1:])
    else:
        main()
