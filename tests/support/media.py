"""Test helpers for media: a file-backed MediaSource and a tiny static file server.

The real storage backends (shared/storage) serve signed URLs in the product; these
helpers let adapter tests hand a platform a real URL and real bytes.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class FileSource:
    """A MediaSource over a local file."""

    path: Path
    url: str
    content_type: str = "video/mp4"

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def filename(self) -> str:
        return self.path.name

    def read_chunks(self, start: int = 0, chunk_size: int = 8 * 1024 * 1024) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            handle.seek(start)
            while chunk := handle.read(chunk_size):
                yield chunk

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for chunk in self.read_chunks():
            digest.update(chunk)
        return digest.hexdigest()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@dataclass
class FileServer:
    directory: Path
    server: ThreadingHTTPServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def source(self, path: Path, content_type: str = "video/mp4") -> FileSource:
        relative = path.resolve().relative_to(self.directory.resolve())
        return FileSource(path=path, url=f"{self.url}/{relative.as_posix()}", content_type=content_type)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_directory(directory: Path) -> FileServer:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return FileServer(directory, server)
