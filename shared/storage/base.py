"""The storage interface both backends implement, and the MediaSource built on it.

Objects are addressed by a path inside one private bucket:
`<user_id>/<video_id>/original.mp4`, `<user_id>/<video_id>/converted.mp4`,
`<user_id>/<video_id>/cover-youtube.jpg`. The first segment is always the owner,
which is how a user may only register files under their own prefix.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

DEFAULT_CHUNK = 8 * 1024 * 1024


class StorageError(RuntimeError):
    """The storage backend failed; the message is safe to show."""


class ObjectNotFound(StorageError):
    pass


class ObjectTooLarge(StorageError):
    """The upload went over the size limit; nothing is kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"This file is larger than {human_size(limit)}, the most we can store. "
            "Please export a shorter or smaller version and try again."
        )


@dataclass(frozen=True)
class StoredObject:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ObjectInfo:
    path: str
    size: int
    updated_at: datetime


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}".replace(".0 ", " ")
        size /= 1024
    return f"{n} bytes"


def clean_path(path: str) -> str:
    """Normalise an object path and refuse anything that climbs out of the bucket."""
    normal = posixpath.normpath(path.strip().lstrip("/"))
    if normal in ("", ".") or normal.startswith("..") or "\x00" in normal or "\\" in normal:
        raise StorageError("That file path is not valid.")
    return normal


class RangeNotSatisfiable(ValueError):
    """A Range header asks for bytes outside the file (answer 416, `Content-Range: bytes */<size>`)."""


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def requested_range(header: str | None, size: int) -> tuple[int, int] | None:
    """First and last byte a single `Range: bytes=a-b`, `a-` or `-n` asks for (RFC 9110 §14.1.2);
    None without a header (the whole file). Raises RangeNotSatisfiable."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or not (match.group(1) or match.group(2)):
        raise RangeNotSatisfiable(header)
    if match.group(1):
        start = int(match.group(1))
        end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
    else:  # suffix range: the last n bytes
        start, end = max(0, size - int(match.group(2))), size - 1
    if start >= size or start > end:
        raise RangeNotSatisfiable(header)
    return start, end


def file_part(handle: BinaryIO, start: int, length: int, block: int = 1024 * 1024) -> Iterator[bytes]:
    """`length` bytes of an open file from `start`, in blocks."""
    handle.seek(start)
    remaining = length
    while remaining > 0:
        chunk = handle.read(min(block, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        yield chunk


def limited(chunks: Iterable[bytes], max_bytes: int | None) -> Iterator[bytes]:
    """Pass chunks through, raising ObjectTooLarge as soon as the total exceeds max_bytes."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise ObjectTooLarge(max_bytes)
        if chunk:
            yield chunk


class Storage(ABC):
    """One private bucket. Implementations: LocalStorage, SupabaseStorage."""

    @abstractmethod
    def put(
        self, path: str, chunks: Iterable[bytes], content_type: str, *, max_bytes: int | None = None
    ) -> StoredObject:
        """Stream chunks into `path` (overwriting). Nothing is left behind if it fails or is too large."""

    @abstractmethod
    def read_chunks(self, path: str, start: int = 0, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]: ...

    @abstractmethod
    def size(self, path: str) -> int: ...

    @abstractmethod
    def exists(self, path: str) -> bool: ...

    @abstractmethod
    def signed_url(self, path: str, ttl_seconds: int | None = None, *, download_name: str | None = None) -> str:
        """A URL anyone can GET until it expires (default SIGNED_URL_TTL_SECONDS). Never log it in full."""

    @abstractmethod
    def delete(self, path: str) -> None:
        """Remove an object; deleting a missing object is not an error."""

    @abstractmethod
    def list(self, prefix: str = "") -> list[ObjectInfo]:
        """Every object under prefix, with size and last change (for retention and usage)."""

    @abstractmethod
    def open(self, path: str) -> BinaryIO:
        """A seekable read-only file object; reads only what is asked (probing uses it)."""

    def usage(self) -> tuple[int, int]:
        """(bytes, object count) of the whole bucket."""
        objects = self.list("")
        return sum(o.size for o in objects), len(objects)

    def put_file(self, path: str, local_path: str, content_type: str) -> StoredObject:
        def chunks() -> Iterator[bytes]:
            with open(local_path, "rb") as handle:
                while chunk := handle.read(DEFAULT_CHUNK):
                    yield chunk

        return self.put(path, chunks(), content_type)

    def download_to(self, path: str, local_path: str) -> None:
        with open(local_path, "wb") as handle:
            for chunk in self.read_chunks(path):
                handle.write(chunk)

    def media_source(
        self, path: str, ttl_seconds: int | None = None, *, content_type: str = "video/mp4",
        filename: str | None = None,
    ) -> StoredMedia:
        """A `shared.platforms.base.MediaSource` for a stored object."""
        return StoredMedia(
            storage=self,
            path=path,
            url=self.signed_url(path, ttl_seconds),
            size=self.size(path),
            content_type=content_type,
            filename=filename or posixpath.basename(path),
        )


@dataclass
class StoredMedia:
    """A stored object handed to a platform adapter: pull by `url` or push by `read_chunks`."""

    storage: Storage
    path: str
    url: str
    size: int
    content_type: str
    filename: str

    def read_chunks(self, start: int = 0, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        return self.storage.read_chunks(self.path, start, chunk_size)

    def __repr__(self) -> str:  # the URL carries a signature: keep it out of logs and tracebacks
        return f"StoredMedia(path={self.path!r}, size={self.size})"


class HashingWriter:
    """Counts and hashes bytes as they pass, for StoredObject."""

    def __init__(self) -> None:
        self.size = 0
        self.digest = hashlib.sha256()

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self.digest.update(chunk)

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


class ChunkReader(io.RawIOBase):
    """A seekable file object over a ranged reader `fetch(start, length) -> bytes`."""

    def __init__(self, size: int, fetch: object, block: int = 256 * 1024) -> None:
        self._size = size
        self._fetch = fetch
        self._pos = 0
        self._block = block
        self._cache_start = 0
        self._cache = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        offset = self._pos - self._cache_start
        if not (offset >= 0 and offset + want <= len(self._cache)):
            length = max(want, self._block)
            self._cache = self._fetch(self._pos, min(length, self._size - self._pos))  # type: ignore[operator]
            self._cache_start = self._pos
            offset = 0
        data = self._cache[offset : offset + want]
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def video_folder(user_id: object, video_id: object) -> str:
    """`<user>/<video>/`: files made from one video (frames, covers chosen by time) live here, whatever the
    original's own path, so deleting the video can remove the whole folder."""
    return f"{user_id}/{video_id}/"
