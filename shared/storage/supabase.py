"""Supabase Storage backend: a private bucket, signed URLs, resumable (TUS) uploads.

Small objects go up in one request through the `storage3` client; anything above
SUPABASE_TUS_THRESHOLD_BYTES goes through `/storage/v1/upload/resumable` in chunks of
exactly 6 MB, which is what Supabase requires (platform-apis.md §6.2). Reads use Range
requests, so probing a 1 GB video fetches only its headers.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

import httpx
from storage3 import SyncStorageClient

from shared.log import get_logger
from shared.storage.base import (
    DEFAULT_CHUNK,
    ChunkReader,
    HashingWriter,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    StoredObject,
    clean_path,
    limited,
)

log = get_logger(__name__)
TUS_CHUNK = 6 * 1024 * 1024
_UNAVAILABLE = "Our file storage is not answering right now. Please try again in a few minutes."


def _tus_metadata(values: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def _rechunk(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Regroup arbitrary chunks into pieces of exactly `size` bytes (the last may be shorter)."""
    buffer = bytearray()
    for chunk in chunks:
        buffer.extend(chunk)
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


class SupabaseStorage(Storage):
    def __init__(
        self,
        supabase_url: str,
        service_key: str,
        *,
        bucket: str = "videos",
        storage_url: str | None = None,
        default_ttl_seconds: int = 24 * 3600,
        tus_threshold_bytes: int = TUS_CHUNK,
        http: httpx.Client | None = None,
    ) -> None:
        self.base = supabase_url.rstrip("/") + "/storage/v1"
        self.tus_base = (storage_url or supabase_url).rstrip("/") + "/storage/v1"
        self.bucket = bucket
        self.default_ttl_seconds = default_ttl_seconds
        self.tus_threshold_bytes = tus_threshold_bytes
        self.headers = {"Authorization": f"Bearer {service_key}", "apikey": service_key}
        self.http = http or httpx.Client(timeout=httpx.Timeout(30.0, read=120.0))
        self.client = SyncStorageClient(self.base + "/", dict(self.headers), http_client=self.http)

    def _bucket(self) -> Any:
        return self.client.from_(self.bucket)

    def _object_url(self, path: str) -> str:
        return f"{self.base}/object/{self.bucket}/{urllib.parse.quote(clean_path(path))}"

    # ---------------------------------------------------------------- upload

    def put(
        self, path: str, chunks: Iterable[bytes], content_type: str, *, max_bytes: int | None = None
    ) -> StoredObject:
        path = clean_path(path)
        hashing = HashingWriter()
        pieces = _rechunk(limited(chunks, max_bytes), TUS_CHUNK)
        first = next(pieces, b"")
        second = next(pieces, None)
        try:
            if second is None and len(first) <= self.tus_threshold_bytes:
                hashing.update(first)
                self._bucket().upload(path, first, {"content-type": content_type, "upsert": "true"})
            else:
                rest = pieces if second is None else _chain([second], pieces)
                self._tus_upload(path, _chain([first], rest), content_type, hashing)
        except httpx.HTTPError as exc:
            log.warning("storage upload failed", path=path, error=type(exc).__name__)
            self.delete(path)
            raise StorageError(_UNAVAILABLE) from None
        except BaseException:
            self.delete(path)
            raise
        return StoredObject(path, hashing.size, hashing.hexdigest())

    def _tus_upload(self, path: str, pieces: Iterator[bytes], content_type: str, hashing: HashingWriter) -> None:
        # The total length is not known while streaming a request body, so the upload
        # declares it late (tus creation-defer-length) with the last chunk.
        created = self.http.post(
            f"{self.tus_base}/upload/resumable",
            headers={
                **self.headers,
                "Tus-Resumable": "1.0.0",
                "Upload-Defer-Length": "1",
                "x-upsert": "true",
                "Upload-Metadata": _tus_metadata(
                    {"bucketName": self.bucket, "objectName": path, "contentType": content_type,
                     "cacheControl": "3600"}
                ),
            },
        )
        self._check(created, "start the upload")
        location = urllib.parse.urljoin(f"{self.tus_base}/upload/resumable", created.headers["Location"])
        offset = 0
        piece = next(pieces, b"")
        while True:
            following = next(pieces, None)
            headers = {
                **self.headers,
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            }
            if following is None:
                headers["Upload-Length"] = str(offset + len(piece))
            response = self.http.patch(location, headers=headers, content=piece)
            self._check(response, "upload a part")
            hashing.update(piece)
            offset += len(piece)
            if following is None:
                return
            piece = following

    @staticmethod
    def _check(response: httpx.Response, doing: str) -> None:
        if response.status_code == 409:
            raise StorageError("This file is already being uploaded. Please wait for that upload to finish.")
        if response.status_code == 413:
            raise StorageError("The storage refused this file because it is too large.")
        if response.status_code >= 400:
            log.warning("storage refused", doing=doing, status=response.status_code, body=response.text[:300])
            raise StorageError(_UNAVAILABLE)

    # ------------------------------------------------------------------ read

    def size(self, path: str) -> int:
        response = self.http.head(self._object_url(path), headers=self.headers)
        if response.status_code in (400, 404):
            raise ObjectNotFound(f"The file {clean_path(path)} is not in storage.")
        self._check(response, "look up a file")
        return int(response.headers.get("content-length", "0"))

    def exists(self, path: str) -> bool:
        try:
            self.size(path)
        except ObjectNotFound:
            return False
        return True

    def _range(self, path: str, start: int, length: int) -> bytes:
        response = self.http.get(
            self._object_url(path), headers={**self.headers, "Range": f"bytes={start}-{start + length - 1}"}
        )
        if response.status_code in (400, 404):
            raise ObjectNotFound(f"The file {clean_path(path)} is not in storage.")
        self._check(response, "read a file")
        return response.content

    def read_chunks(self, path: str, start: int = 0, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        headers = {**self.headers, "Range": f"bytes={start}-"} if start else dict(self.headers)
        with self.http.stream("GET", self._object_url(path), headers=headers) as response:
            if response.status_code in (400, 404):
                raise ObjectNotFound(f"The file {clean_path(path)} is not in storage.")
            self._check(response, "read a file")
            yield from response.iter_bytes(chunk_size)

    def open(self, path: str) -> BinaryIO:
        size = self.size(path)
        return ChunkReader(size, lambda start, length: self._range(path, start, length))  # type: ignore[return-value]

    # --------------------------------------------------------------- manage

    def signed_url(self, path: str, ttl_seconds: int | None = None, *, download_name: str | None = None) -> str:
        path = clean_path(path)
        response = self.http.post(
            f"{self.base}/object/sign/{self.bucket}/{urllib.parse.quote(path)}",
            headers=self.headers,
            json={"expiresIn": int(ttl_seconds or self.default_ttl_seconds)},
        )
        if response.status_code in (400, 404):
            raise ObjectNotFound(f"The file {path} is not in storage.")
        self._check(response, "sign a link")
        relative = response.json()["signedURL"]  # relative to /storage/v1 (platform-apis.md §6.1)
        url = self.base + relative
        if download_name:
            url += "&download=" + urllib.parse.quote(download_name)
        return url

    def delete(self, path: str) -> None:
        try:
            self._bucket().remove([clean_path(path)])
        except Exception as exc:  # storage3 raises its own error types; a missing object is fine
            log.warning("storage delete failed", path=path, error=type(exc).__name__)

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        folders = [prefix.strip("/")]
        while folders:
            folder = folders.pop()
            offset = 0
            while True:
                page = self._bucket().list(folder or None, {"limit": 1000, "offset": offset})
                for item in page:
                    full = f"{folder}/{item['name']}" if folder else item["name"]
                    if item.get("id") is None:  # a folder
                        folders.append(full)
                        continue
                    meta = item.get("metadata") or {}
                    updated = item.get("updated_at") or item.get("created_at")
                    found.append(
                        ObjectInfo(
                            path=full,
                            size=int(meta.get("size") or 0),
                            updated_at=datetime.fromisoformat(updated.replace("Z", "+00:00"))
                            if updated else datetime.now(UTC),
                        )
                    )
                if len(page) < 1000:
                    break
                offset += 1000
        return sorted(found, key=lambda o: o.path)


def _chain(first: Iterable[bytes], rest: Iterable[bytes]) -> Iterator[bytes]:
    yield from first
    yield from rest
