"""Supabase Storage backend: a private bucket, signed URLs, resumable (TUS) uploads.

Objects up to SUPABASE_TUS_THRESHOLD_BYTES go up in one request (storage3, Supabase's
Python client). Anything larger goes through Supabase's TUS endpoint with `tuspy`, the
tus project's Python client, in chunks of exactly 6 MiB as Supabase requires; after a
dropped connection it asks the server for `Upload-Offset` and goes on from there.
Reads use Range requests, so probing a 1 GB video fetches only its headers.

Supabase's documentation for each call is named where the call is made; the test
stand-in (tests/support/supabase_storage.py) follows the same pages.
"""

from __future__ import annotations

import contextlib
import tempfile
import urllib.parse
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any, BinaryIO, NoReturn

import httpx
import requests
from storage3 import SyncStorageClient
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError

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

# "chunkSize: 6 * 1024 * 1024 — it must be set to 6MB (for now) do not change it"
# https://supabase.com/docs/guides/storage/uploads/resumable-uploads
TUS_CHUNK = 6 * 1024 * 1024
_UNAVAILABLE = "Our file storage is not answering right now. Please try again in a few minutes."
_EXISTS = "A file with this name is already in storage."


def _not_found(path: str) -> ObjectNotFound:
    return ObjectNotFound(f"The file {path} is not in storage.")


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
        tus_retries: int = 5,
        tus_retry_delay: float = 3.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.base = supabase_url.rstrip("/") + "/storage/v1"
        # Large uploads should use the direct storage host (https://<ref>.storage.supabase.co):
        # https://supabase.com/docs/guides/storage/uploads/resumable-uploads
        self.tus_endpoint = (storage_url or supabase_url).rstrip("/") + "/storage/v1/upload/resumable"
        self.bucket = bucket
        self.default_ttl_seconds = default_ttl_seconds
        self.tus_threshold_bytes = min(tus_threshold_bytes, TUS_CHUNK)
        self.tus_retries = tus_retries
        self.tus_retry_delay = tus_retry_delay
        self.headers = {"Authorization": f"Bearer {service_key}", "apikey": service_key}
        self.http = http or httpx.Client(timeout=httpx.Timeout(30.0, read=120.0))
        self.client = SyncStorageClient(self.base + "/", dict(self.headers), http_client=self.http)

    def _bucket(self) -> Any:
        return self.client.from_(self.bucket)

    def _object_url(self, kind: str, path: str) -> str:
        return f"{self.base}/object/{kind}{self.bucket}/{urllib.parse.quote(clean_path(path))}"

    # ---------------------------------------------------------------- upload

    def put(
        self, path: str, chunks: Iterable[bytes], content_type: str, *, max_bytes: int | None = None
    ) -> StoredObject:
        path = clean_path(path)
        hashing = HashingWriter()
        # TUS needs the length before the first byte (tuspy sends Upload-Length), and a
        # request body streamed to us has none: spool it, in memory up to one chunk and
        # on disk beyond, so memory stays at one chunk whatever the size.
        with tempfile.SpooledTemporaryFile(max_size=TUS_CHUNK) as spool:
            for chunk in limited(chunks, max_bytes):
                spool.write(chunk)
                hashing.update(chunk)
            spool.seek(0)
            self._upload(path, spool, hashing.size, content_type)
        return StoredObject(path, hashing.size, hashing.hexdigest())

    def put_file(self, path: str, local_path: str, content_type: str) -> StoredObject:
        path = clean_path(path)
        hashing = HashingWriter()
        with open(local_path, "rb") as handle:
            while chunk := handle.read(DEFAULT_CHUNK):
                hashing.update(chunk)
            handle.seek(0)
            self._upload(path, handle, hashing.size, content_type)
        return StoredObject(path, hashing.size, hashing.hexdigest())

    def _upload(self, path: str, stream: IO[bytes], size: int, content_type: str) -> None:
        if size <= self.tus_threshold_bytes:
            self._standard_upload(path, stream.read(), content_type)
        else:
            self.tus_upload(path, stream, content_type)

    def _standard_upload(self, path: str, data: bytes, content_type: str) -> None:
        # https://supabase.com/docs/guides/storage/uploads/standard-uploads (upsert overwrites)
        try:
            self._bucket().upload(path, data, {"content-type": content_type, "upsert": "true"})
        except httpx.HTTPError as exc:
            log.warning("storage upload failed", path=path, error=type(exc).__name__)
            raise StorageError(_UNAVAILABLE) from None
        except Exception as exc:  # storage3's StorageApiError carries the answer's status
            self._refused(getattr(exc, "status", None), str(exc), "upload a file")

    def tus_upload(self, path: str, stream: IO[bytes], content_type: str, *, chunk_size: int = TUS_CHUNK) -> None:
        """Resumable upload of a seekable stream to `path` (overwriting), through tuspy."""
        # Headers and metadata: https://supabase.com/docs/guides/storage/uploads/resumable-uploads
        client = TusClient(self.tus_endpoint, headers={**self.headers, "x-upsert": "true"})
        uploader = client.uploader(
            file_stream=stream,
            chunk_size=chunk_size,
            metadata={"bucketName": self.bucket, "objectName": path, "contentType": content_type,
                      "cacheControl": "3600"},
            # Each failed chunk: wait, HEAD the upload for the server's Upload-Offset, resend from there.
            retries=self.tus_retries,
            retry_delay=self.tus_retry_delay,  # type: ignore[arg-type]  # time.sleep takes a float
        )
        try:
            uploader.upload()
        except TusCommunicationError as exc:
            if uploader.url:  # free the partial upload on the server (tus termination)
                with contextlib.suppress(requests.RequestException):
                    requests.delete(uploader.url, headers={**self.headers, "Tus-Resumable": "1.0.0"}, timeout=10)
            body = exc.response_content.decode(errors="replace") if isinstance(exc.response_content, bytes) \
                else str(exc.response_content or exc)
            self._refused(exc.status_code, body, "upload a file in parts")

    @staticmethod
    def _refused(status: int | str | None, detail: str, doing: str) -> NoReturn:
        code = int(status) if status is not None and str(status).isdigit() else None
        log.warning("storage refused", doing=doing, status=code, detail=detail[:300])
        if code == 409:
            raise StorageError(_EXISTS)
        if code == 413:
            raise StorageError("The storage refused this file because it is too large for the bucket.")
        raise StorageError(_UNAVAILABLE)

    @staticmethod
    def _check(response: httpx.Response, path: str, doing: str) -> None:
        # Missing objects: 404 `not_found` (older servers answer 400 with statusCode "404"):
        # https://supabase.com/docs/guides/storage/debugging/error-codes
        if response.status_code == 404 or (response.status_code == 400 and _status_in_body(response) == "404"):
            raise _not_found(path)
        if response.status_code >= 400:
            SupabaseStorage._refused(response.status_code, response.text, doing)

    # ------------------------------------------------------------------ read

    def info(self, path: str) -> dict[str, Any]:
        # https://supabase.com/docs/reference/javascript/file-buckets-info
        path = clean_path(path)
        response = self.http.get(self._object_url("info/", path), headers=self.headers)
        self._check(response, path, "look up a file")
        return dict(response.json())

    def size(self, path: str) -> int:
        return int(self.info(path)["size"])

    def exists(self, path: str) -> bool:
        try:
            self.info(path)
        except ObjectNotFound:
            return False
        return True

    def _range(self, path: str, start: int, length: int) -> bytes:
        # Authenticated download: https://supabase.com/docs/reference/javascript/storage-from-download
        # with an HTTP Range header (RFC 9110 §14.2) for the part a probe reads.
        response = self.http.get(
            self._object_url("", path), headers={**self.headers, "Range": f"bytes={start}-{start + length - 1}"}
        )
        self._check(response, clean_path(path), "read a file")
        return response.content

    def read_chunks(self, path: str, start: int = 0, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        headers = {**self.headers, "Range": f"bytes={start}-"} if start else dict(self.headers)
        with self.http.stream("GET", self._object_url("", path), headers=headers) as response:
            if response.status_code >= 400:
                response.read()
                self._check(response, clean_path(path), "read a file")
            yield from response.iter_bytes(chunk_size)

    def open(self, path: str) -> BinaryIO:
        size = self.size(path)
        return ChunkReader(size, lambda start, length: self._range(path, start, length))  # type: ignore[return-value]

    # --------------------------------------------------------------- manage

    def signed_url(self, path: str, ttl_seconds: int | None = None, *, download_name: str | None = None) -> str:
        # https://supabase.com/docs/reference/javascript/storage-from-createsignedurl
        # {"expiresIn": s} -> {"signedURL": "/object/sign/<bucket>/<path>?token=…"}, relative to /storage/v1.
        path = clean_path(path)
        response = self.http.post(
            self._object_url("sign/", path), headers=self.headers,
            json={"expiresIn": int(ttl_seconds or self.default_ttl_seconds)},
        )
        self._check(response, path, "sign a link")
        url = self.base + response.json()["signedURL"]
        if download_name:
            url += "&download=" + urllib.parse.quote(download_name)
        return url

    def delete(self, path: str) -> None:
        # https://supabase.com/docs/reference/javascript/storage-from-remove: a missing object is
        # simply not in the answer, so only a failed call is an error.
        path = clean_path(path)
        try:
            self._bucket().remove([path])
        except httpx.HTTPError as exc:
            log.warning("storage delete failed", path=path, error=type(exc).__name__)
            raise StorageError(_UNAVAILABLE) from None
        except Exception as exc:
            self._refused(getattr(exc, "status", None), str(exc), "delete a file")

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        # https://supabase.com/docs/reference/javascript/storage-from-list: one folder level per
        # call, folders have no id; we walk them.
        found: list[ObjectInfo] = []
        folders = [prefix.strip("/")]
        while folders:
            folder = folders.pop()
            offset = 0
            while True:
                try:
                    page = self._bucket().list(folder or None, {"limit": 1000, "offset": offset})
                except httpx.HTTPError:
                    raise StorageError(_UNAVAILABLE) from None
                except Exception as exc:  # storage3's StorageApiError
                    self._refused(getattr(exc, "status", None), str(exc), "list files")
                for item in page:
                    full = f"{folder}/{item['name']}" if folder else item["name"]
                    if item.get("id") is None:
                        folders.append(full)
                        continue
                    meta = item.get("metadata") or {}
                    updated = item.get("updated_at") or item.get("created_at")
                    found.append(ObjectInfo(
                        path=full,
                        size=int(meta.get("size") or 0),
                        updated_at=datetime.fromisoformat(updated.replace("Z", "+00:00"))
                        if updated else datetime.now(UTC),
                    ))
                if len(page) < 1000:
                    break
                offset += 1000
        if not found and prefix.strip("/"):
            # A prefix that names one object (not a folder) lists that object, as LocalStorage does.
            with contextlib.suppress(ObjectNotFound):
                described = self.info(prefix)
                stamp = described.get("last_modified") or described.get("updated_at")
                found.append(ObjectInfo(clean_path(prefix), int(described["size"]),
                                        datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                                        if stamp else datetime.now(UTC)))
        return sorted(found, key=lambda o: o.path)


def _status_in_body(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body.get("statusCode")) if isinstance(body, dict) else None
