"""Local storage: files on disk under `<dir>/<bucket>/`, HMAC-signed expiring URLs.

Stands in for Supabase Storage on one machine (make run, tests). Signed URLs look like
`<base>/<bucket>/<path>?expires=<unix>&sig=<hmac>` and are served with Range support by
`shared.storage.local_server`, which refuses expired or tampered ones.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from shared.storage.base import (
    DEFAULT_CHUNK,
    HashingWriter,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StoredObject,
    clean_path,
    limited,
)
from shared.storage.local_server import start_in_thread
from shared.wsgi_server import RunningServer

_TEMP_PREFIX = ".upload-"


def signing_key_from(directory: Path) -> bytes:
    """A random key kept beside the files, so URLs stay valid across restarts of `make run`."""
    directory.mkdir(parents=True, exist_ok=True)
    key_file = directory / ".signing-key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return key_file.read_text().strip().encode()


class LocalStorage(Storage):
    def __init__(
        self,
        directory: str | Path,
        *,
        bucket: str = "videos",
        signing_key: bytes | None = None,
        base_url: str | None = None,
        default_ttl_seconds: int = 24 * 3600,
        clock: Callable[[], float] = time.time,
        server_port: int = 0,
    ) -> None:
        self.root = Path(directory).resolve() / bucket
        self.root.mkdir(parents=True, exist_ok=True)
        self.bucket = bucket
        self.signing_key = signing_key or signing_key_from(Path(directory).resolve())
        self.default_ttl_seconds = default_ttl_seconds
        self.clock = clock
        self._base_url = base_url.rstrip("/") if base_url else None
        self._server_port = server_port
        self._server_lock = threading.Lock()
        self.server: RunningServer | None = None

    # ------------------------------------------------------------------ files

    def _file(self, path: str) -> Path:
        return self.root / clean_path(path)

    def put(
        self, path: str, chunks: Iterable[bytes], content_type: str, *, max_bytes: int | None = None
    ) -> StoredObject:
        target = self._file(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        hashing = HashingWriter()
        fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in limited(chunks, max_bytes):
                    handle.write(chunk)
                    hashing.update(chunk)
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return StoredObject(clean_path(path), hashing.size, hashing.hexdigest())

    def read_chunks(self, path: str, start: int = 0, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        handle = self.open(path)
        try:
            handle.seek(start)
            while chunk := handle.read(chunk_size):
                yield chunk
        finally:
            handle.close()

    def open(self, path: str) -> BinaryIO:
        try:
            return self._file(path).open("rb")
        except FileNotFoundError:
            raise ObjectNotFound(f"The file {clean_path(path)} is not in storage.") from None

    def size(self, path: str) -> int:
        try:
            return self._file(path).stat().st_size
        except FileNotFoundError:
            raise ObjectNotFound(f"The file {clean_path(path)} is not in storage.") from None

    def exists(self, path: str) -> bool:
        return self._file(path).is_file()

    def delete(self, path: str) -> None:
        target = self._file(path)
        target.unlink(missing_ok=True)
        # Drop empty folders up to the bucket so listings stay small.
        parent = target.parent
        while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        found = []
        start = self.root / clean_path(prefix) if prefix.strip("/") else self.root
        if not start.exists():
            return []
        for file in start.rglob("*") if start.is_dir() else [start]:
            if file.is_file() and not file.name.startswith(_TEMP_PREFIX):
                stat = file.stat()
                found.append(
                    ObjectInfo(
                        path=file.relative_to(self.root).as_posix(),
                        size=stat.st_size,
                        updated_at=datetime.fromtimestamp(stat.st_mtime, UTC),
                    )
                )
        return sorted(found, key=lambda o: o.path)

    # ------------------------------------------------------------ signed URLs

    def signature(self, path: str, expires: int) -> str:
        message = f"{self.bucket}/{clean_path(path)}\n{expires}".encode()
        return hmac.new(self.signing_key, message, hashlib.sha256).hexdigest()

    def check_signature(self, path: str, expires: str, signature: str) -> str | None:
        """None when the URL is valid now; otherwise the plain reason it is refused."""
        try:
            expires_at = int(expires)
            expected = self.signature(path, expires_at)
        except (ValueError, Exception):
            return "This link is not valid. Please ask for a new one."
        if not hmac.compare_digest(expected, signature):
            return "This link is not valid. Please ask for a new one."
        if self.clock() >= expires_at:
            return "This link has expired. Please ask for a new one."
        return None

    def start_server(self, port: int | None = None) -> RunningServer:
        """Serve the signed URLs from a daemon thread; they point at it unless a base URL was given."""
        running = start_in_thread(self, port=self._server_port if port is None else port)
        if self._base_url is None:
            self._base_url = running.url
        return running

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            with self._server_lock:
                if self._base_url is None:
                    self.server = self.start_server()
        assert self._base_url is not None
        return self._base_url

    def signed_url(self, path: str, ttl_seconds: int | None = None, *, download_name: str | None = None) -> str:
        path = clean_path(path)
        expires = int(self.clock()) + int(ttl_seconds or self.default_ttl_seconds)
        query = {"expires": str(expires), "sig": self.signature(path, expires)}
        if download_name:
            query["download"] = download_name
        quoted = urllib.parse.quote(f"{self.bucket}/{path}")
        return f"{self.base_url}/{quoted}?{urllib.parse.urlencode(query)}"
