"""A stand-in for Supabase Storage: the REST calls our backend makes, and TUS uploads
served by an independent implementation (`tuspyserver`, from PyPI) at the path Supabase
uses.

    server = start_storage_server(tmp_path, service_key="...", jwt_secret="...")
    SupabaseStorage(server.url, "...")          # talks to it like to a real project
    server.stop()

Each route follows the request and response shapes Supabase documents; the page is
named where the route is implemented. Objects live as plain files under
`<root>/objects/<bucket>/<path>`; TUS uploads in progress live under `<root>/tus/` and
become objects when their last byte arrives, as Supabase does.

Who may do what mirrors a project with a private bucket and the owner-folder policy of
docs/media.md: the service key may do everything; a user's JWT may only write, read and
sign objects whose first folder is the user's id.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import mimetypes
import os
import shutil
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from shared.storage.base import RangeNotSatisfiable, file_part, requested_range

TUS_PREFIX = "/storage/v1/upload/resumable"
_READ = 1024 * 1024


def storage_error(status: int, error: str, message: str) -> JSONResponse:
    # Error bodies: https://supabase.com/docs/guides/storage/debugging/error-codes — the
    # `code` field of the new scheme beside the older `statusCode`/`error` pair that
    # storage3 (supabase-py) still parses.
    return JSONResponse({"statusCode": str(status), "code": error, "error": error, "message": message},
                        status_code=status)


class StorageRefusal(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


@dataclass
class Caller:
    service: bool
    user_id: str | None = None

    def may_touch(self, path: str) -> bool:
        return self.service or (self.user_id is not None and path.split("/")[0] == self.user_id)


@dataclass
class Traffic:
    """What the stand-in served: bytes of object bodies and the Range headers asked for."""

    body_bytes: int = 0
    ranges: list[str] = field(default_factory=list)
    tus_requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def reset(self) -> None:
        self.body_bytes = 0
        self.ranges.clear()
        self.tus_requests.clear()


class SupabaseStorageStandIn:
    def __init__(self, root: Path, *, service_key: str, jwt_secret: str | None = None,
                 buckets: tuple[str, ...] = ("videos",), file_size_limit: int | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.tus_dir = self.root / "tus"
        for bucket in buckets:
            (self.objects / bucket).mkdir(parents=True, exist_ok=True)
        self.tus_dir.mkdir(parents=True, exist_ok=True)
        self.service_key = service_key
        self.jwt_secret = jwt_secret
        self.buckets = set(buckets)
        self.file_size_limit = file_size_limit
        self.signing_secret = os.urandom(32).hex()
        self.clock = clock
        self.traffic = Traffic()
        self.app = self._build()

    # ------------------------------------------------------------------ helpers

    def caller(self, request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        if token and token == self.service_key:
            return Caller(service=True)
        if token and self.jwt_secret:
            try:
                claims = jwt.decode(token, self.jwt_secret, algorithms=["HS256"], audience="authenticated")
            except jwt.PyJWTError:
                raise StorageRefusal(400, "InvalidJWT", "invalid signature") from None
            return Caller(service=False, user_id=str(claims.get("sub")))
        if token:
            raise StorageRefusal(400, "InvalidJWT", "Invalid Compact JWS")
        raise StorageRefusal(400, "InvalidJWT", "headers must have required property 'authorization'")

    def object_file(self, bucket: str, path: str) -> Path:
        if bucket not in self.buckets:
            raise StorageRefusal(404, "NoSuchBucket", "Bucket not found")
        clean = path.strip("/")
        if not clean or ".." in clean.split("/"):
            raise StorageRefusal(400, "InvalidKey", f"Invalid key: {path}")
        return self.objects / bucket / clean

    def existing(self, bucket: str, path: str) -> Path:
        file = self.object_file(bucket, path)
        if not file.is_file():
            raise StorageRefusal(404, "not_found", "Object not found")
        return file

    def info(self, bucket: str, path: str, file: Path) -> dict[str, Any]:
        stat = file.stat()
        modified = datetime.fromtimestamp(stat.st_mtime, UTC).isoformat().replace("+00:00", "Z")
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{bucket}/{path}")), "name": path, "bucket_id": bucket,
            "version": str(int(stat.st_mtime_ns)), "size": stat.st_size, "content_type": content_type,
            "cache_control": "max-age=3600", "etag": f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"',
            "last_modified": modified, "created_at": modified, "updated_at": modified, "metadata": {},
        }

    def file_metadata(self, path: str, file: Path) -> dict[str, Any]:
        stat = file.stat()
        return {"eTag": f'"{stat.st_mtime_ns:x}"', "size": stat.st_size,
                "mimetype": mimetypes.guess_type(path)[0] or "application/octet-stream",
                "cacheControl": "max-age=3600",
                "lastModified": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat().replace("+00:00", "Z"),
                "contentLength": stat.st_size, "httpStatusCode": 200}

    def serve_file(self, request: Request, file: Path, *, download: str | None = None) -> Response:
        """A whole object or one Range of it (RFC 9110 single ranges, as the storage server answers)."""
        size = file.stat().st_size
        header = request.headers.get("range")
        if header:
            self.traffic.ranges.append(header)
        try:
            wanted = requested_range(header, size)
        except RangeNotSatisfiable:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        start, end = wanted or (0, size - 1)
        status = 206 if wanted else 200
        headers = {"Content-Length": str(end - start + 1), "Accept-Ranges": "bytes",
                   "Content-Type": mimetypes.guess_type(file.name)[0] or "application/octet-stream",
                   "Cache-Control": "max-age=3600"}
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        if download is not None:
            headers["Content-Disposition"] = f'attachment; filename="{download or file.name}"'
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers)
        return StreamingResponse(self._stream(file, start, end - start + 1), status_code=status, headers=headers)

    def _stream(self, file: Path, start: int, length: int) -> Iterator[bytes]:
        with file.open("rb") as handle:
            for chunk in file_part(handle, start, length):
                self.traffic.body_bytes += len(chunk)
                yield chunk

    def sign_token(self, bucket: str, path: str, expires_in: int) -> str:
        now = int(self.clock())
        return jwt.encode({"url": f"{bucket}/{path}", "iat": now, "exp": now + expires_in}, self.signing_secret,
                          algorithm="HS256")

    def store(self, bucket: str, path: str, source: Path, *, upsert: bool) -> None:
        target = self.object_file(bucket, path)
        if target.exists() and not upsert:
            raise StorageRefusal(409, "Duplicate", "The resource already exists")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)

    # ------------------------------------------------------------------- routes

    def _build(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        @app.exception_handler(StorageRefusal)
        async def refused(_: Request, exc: StorageRefusal) -> JSONResponse:
            return storage_error(exc.status, exc.error, exc.message)

        app.include_router(self._tus_router())
        app.add_middleware(_TusFilenameMetadata, standin=self)

        # Create a signed URL: https://supabase.com/docs/reference/javascript/storage-from-createsignedurl
        # POST /object/sign/{bucket}/{path} {"expiresIn": s} -> {"signedURL": "/object/sign/...?token=..."}
        @app.post("/storage/v1/object/sign/{bucket}/{path:path}")
        async def sign(bucket: str, path: str, request: Request) -> JSONResponse:
            caller = self.caller(request)
            body = await request.json()
            expires_in = body.get("expiresIn")
            if not isinstance(expires_in, int) or expires_in < 1:
                raise StorageRefusal(400, "InvalidRequest", "body/expiresIn must be >= 1")
            if not caller.may_touch(path):
                raise StorageRefusal(404, "not_found", "Object not found")
            self.existing(bucket, path)
            token = self.sign_token(bucket, path, expires_in)
            quoted = urllib.parse.quote(f"{bucket}/{path}")
            return JSONResponse({"signedURL": f"/object/sign/{quoted}?token={token}"})

        # Download through a signed URL (anyone holding it, until it expires); `download`
        # asks for an attachment: https://supabase.com/docs/reference/javascript/storage-from-createsignedurl
        @app.api_route("/storage/v1/object/sign/{bucket}/{path:path}", methods=["GET", "HEAD"])
        async def signed_download(bucket: str, path: str, request: Request, token: str = "",
                                  download: str | None = None) -> Response:
            try:  # expiry is checked against self.clock, which tests move by hand
                claims = jwt.decode(token, self.signing_secret, algorithms=["HS256"], options={"verify_exp": False})
            except jwt.PyJWTError:
                raise StorageRefusal(400, "InvalidSignature", "invalid signature") from None
            if self.clock() >= int(claims.get("exp", 0)):
                raise StorageRefusal(400, "InvalidJWT", "jwt expired")
            if claims.get("url") != f"{bucket}/{path}":
                raise StorageRefusal(400, "InvalidSignature", "url mismatch")
            return self.serve_file(request, self.existing(bucket, path), download=download)

        # Retrieve the details of a file: https://supabase.com/docs/reference/javascript/file-buckets-info
        # (the REST answer is snake_case; supabase-js turns it into camelCase).
        @app.get("/storage/v1/object/info/{bucket}/{path:path}")
        async def info(bucket: str, path: str, request: Request) -> JSONResponse:
            caller = self.caller(request)
            if not caller.may_touch(path):
                raise StorageRefusal(404, "not_found", "Object not found")
            return JSONResponse(self.info(bucket, path, self.existing(bucket, path)))

        # List a folder: https://supabase.com/docs/reference/javascript/storage-from-list
        # POST /object/list/{bucket} {prefix, limit, offset, sortBy: {column, order}} -> one level of
        # entries; a folder is an entry whose id is null.
        @app.post("/storage/v1/object/list/{bucket}")
        async def list_folder(bucket: str, request: Request) -> JSONResponse:
            caller = self.caller(request)
            body = await request.json()
            prefix = str(body.get("prefix") or "").strip("/")
            limit, offset = int(body.get("limit", 100)), int(body.get("offset", 0))
            folder = self.objects / bucket / prefix if prefix else self.objects / bucket
            if bucket not in self.buckets:
                raise StorageRefusal(404, "NoSuchBucket", "Bucket not found")
            if not caller.service and not caller.may_touch(prefix or "/"):
                return JSONResponse([])
            entries: list[dict[str, Any]] = []
            if folder.is_dir():
                for child in sorted(folder.iterdir(), key=lambda p: p.name):
                    if child.is_dir():
                        entries.append({"name": child.name, "id": None, "updated_at": None, "created_at": None,
                                        "last_accessed_at": None, "metadata": None})
                    else:
                        key = f"{prefix}/{child.name}" if prefix else child.name
                        described = self.info(bucket, key, child)
                        entries.append({"name": child.name, "id": described["id"],
                                        "updated_at": described["updated_at"],
                                        "created_at": described["created_at"],
                                        "last_accessed_at": described["updated_at"],
                                        "metadata": self.file_metadata(key, child)})
            return JSONResponse(entries[offset: offset + limit])

        # Delete files: https://supabase.com/docs/reference/javascript/storage-from-remove
        # DELETE /object/{bucket} {"prefixes": [...]} -> the objects removed (missing ones are skipped).
        @app.delete("/storage/v1/object/{bucket}")
        async def remove(bucket: str, request: Request) -> JSONResponse:
            caller = self.caller(request)
            body = await request.json()
            removed = []
            for path in body.get("prefixes") or []:
                file = self.object_file(bucket, path)
                if caller.may_touch(path) and file.is_file():
                    removed.append(self.info(bucket, path, file))
                    file.unlink()
                    parent = file.parent
                    while parent != self.objects / bucket and parent.is_dir() and not any(parent.iterdir()):
                        parent.rmdir()
                        parent = parent.parent
            return JSONResponse(removed)

        # Download (authenticated): https://supabase.com/docs/reference/javascript/storage-from-download
        # GET /object/{bucket}/{path} (also /object/authenticated/...), with Range for parts.
        @app.api_route("/storage/v1/object/authenticated/{bucket}/{path:path}", methods=["GET", "HEAD"])
        @app.api_route("/storage/v1/object/{bucket}/{path:path}", methods=["GET", "HEAD"])
        async def download(bucket: str, path: str, request: Request) -> Response:
            caller = self.caller(request)
            if not caller.may_touch(path):
                raise StorageRefusal(404, "not_found", "Object not found")
            return self.serve_file(request, self.existing(bucket, path))

        # Standard upload: https://supabase.com/docs/guides/storage/uploads/standard-uploads
        # POST /object/{bucket}/{path}, multipart `file` field (supabase-py) or a raw body;
        # an existing path needs `x-upsert: true`, else "Asset Already Exists". -> {"Key", "Id"}
        @app.post("/storage/v1/object/{bucket}/{path:path}")
        async def upload(bucket: str, path: str, request: Request) -> JSONResponse:
            caller = self.caller(request)
            if not caller.may_touch(path):
                raise StorageRefusal(403, "Unauthorized", "new row violates row-level security policy")
            target = self.object_file(bucket, path)
            temp = self.tus_dir / f"standard-{uuid.uuid4().hex}"
            if (request.headers.get("content-type") or "").startswith("multipart/form-data"):
                form = await request.form()
                part: Any = form.get("file")
                if part is None or isinstance(part, str):
                    raise StorageRefusal(400, "InvalidRequest", "No file in the upload")
                with temp.open("wb") as out:
                    shutil.copyfileobj(part.file, out)
            else:
                with temp.open("wb") as out:
                    async for chunk in request.stream():
                        out.write(chunk)
            try:
                if self.file_size_limit is not None and temp.stat().st_size > self.file_size_limit:
                    raise StorageRefusal(413, "Payload too large", "The object exceeded the maximum allowed size")
                self.store(bucket, path, temp, upsert=request.headers.get("x-upsert") == "true")
            finally:
                temp.unlink(missing_ok=True)
            return JSONResponse({"Key": f"{bucket}/{path}", "Id": str(uuid.uuid5(uuid.NAMESPACE_URL, str(target)))})

        return app

    def _tus_router(self) -> Any:
        """tuspyserver's router at Supabase's TUS path, with Supabase's checks around it.

        https://supabase.com/docs/guides/storage/uploads/resumable-uploads: metadata
        `bucketName`, `objectName`, `contentType`, `cacheControl`; `x-upsert: true` to
        overwrite; an existing object without it is a 409.
        """
        from tuspyserver import create_tus_router

        async def auth(request: Request) -> None:
            try:
                self.caller(request)
            except StorageRefusal as refused:
                raise HTTPException(refused.status, refused.message) from None

        def pre_create_dep(request: Request) -> Callable[[dict[str, str], dict[str, Any]], None]:
            def check(metadata: dict[str, str], upload: dict[str, Any]) -> None:
                try:
                    caller = self.caller(request)
                except StorageRefusal as refused:
                    raise HTTPException(refused.status, refused.message) from None
                bucket, name = metadata.get("bucketName"), metadata.get("objectName")
                if not bucket or not name:
                    raise HTTPException(400, "metadata bucketName and objectName are required")
                if bucket not in self.buckets:
                    raise HTTPException(404, "Bucket not found")
                if not caller.may_touch(name):
                    raise HTTPException(403, "new row violates row-level security policy")
                size = upload.get("size")
                if self.file_size_limit is not None and size is not None and int(size) > self.file_size_limit:
                    raise HTTPException(413, "The object exceeded the maximum allowed size")
                if (self.objects / bucket / name).exists() and request.headers.get("x-upsert") != "true":
                    raise HTTPException(409, "The resource already exists")
            return check


        def complete(file_path: str, metadata: dict[str, Any]) -> None:  # a function: tuspyserver deep-copies
            self.finish_upload(file_path, metadata)                       # its options, a bound method with them

        # tuspyserver's hint says `auth` takes no arguments, but FastAPI calls it as a dependency,
        # injecting the request by its annotation.
        return create_tus_router(prefix=TUS_PREFIX, files_dir=str(self.tus_dir), auth=auth,  # type: ignore[arg-type]
                                 pre_create_dep=pre_create_dep, on_upload_complete=complete,
                                 days_to_keep=1)

    def finish_upload(self, file_path: str, metadata: dict[str, Any]) -> None:
        """The last byte of a TUS upload arrived: the object appears (replacing any old one)."""
        target = self.objects / metadata["bucketName"] / metadata["objectName"]
        target.parent.mkdir(parents=True, exist_ok=True)
        # A second name for the finished upload: the object appears at once, and a
        # client that lost the last answer can still HEAD its upload URL.
        temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
        os.link(file_path, temp)
        os.replace(temp, target)

    def sha256(self, bucket: str, path: str) -> str:
        digest = hashlib.sha256()
        with self.existing(bucket, path).open("rb") as handle:
            while chunk := handle.read(_READ):
                digest.update(chunk)
        return digest.hexdigest()



class _TusFilenameMetadata:
    """tuspyserver answers HEAD only for uploads whose metadata has `filename` and `filetype`;
    Supabase's clients send `objectName` and `contentType`. Add the two it wants from those.
    It also finishes an upload whose every byte came with its creation POST (tus
    creation-with-upload, as tus-js-client sends small files), which tuspyserver leaves
    open, and records each TUS request as the client sent it (Traffic.tus_requests)."""

    def __init__(self, app: Any, standin: SupabaseStorageStandIn) -> None:
        self.app = app
        self.standin = standin

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(TUS_PREFIX):
            await self.app(scope, receive, send)
            return
        sent = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        self.standin.traffic.tus_requests.append((scope["method"], sent))
        if scope["method"] != "POST" or scope["path"].rstrip("/") != TUS_PREFIX:
            await self.app(scope, receive, send)
            return
        metadata = _with_tuspyserver_names(sent.get("upload-metadata", ""))
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"upload-metadata"]
        headers.append((b"upload-metadata", metadata.encode("latin-1")))
        length = sent.get("upload-length")

        async def finish_then_answer(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] == 201:
                answer = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message["headers"]}
                if length and int(length) > 0 and answer.get("upload-offset") == length:
                    uid = answer["location"].rstrip("/").rsplit("/", 1)[-1]
                    decoded = {key: base64.b64decode(value).decode() for key, value in
                               (item.split(" ", 1) for item in metadata.split(",") if " " in item)}
                    self.standin.finish_upload(str(self.standin.tus_dir / uid), decoded)
            await send(message)

        await self.app({**scope, "headers": headers}, receive, finish_then_answer)


def _with_tuspyserver_names(header: str) -> str:
    pairs = {key: value for key, _, value in (item.strip().partition(" ") for item in header.split(","))
             if key}
    if "filename" not in pairs and "objectName" in pairs:
        pairs["filename"] = pairs["objectName"]
    if "filetype" not in pairs:
        pairs["filetype"] = pairs.get("contentType") or base64.b64encode(b"application/octet-stream").decode()
    return ",".join(f"{key} {value}".rstrip() for key, value in pairs.items())


@dataclass
class RunningStorage:
    standin: SupabaseStorageStandIn
    server: uvicorn.Server
    thread: threading.Thread
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_storage_server(root: Path, *, service_key: str, jwt_secret: str | None = None,
                         file_size_limit: int | None = None, port: int = 0,
                         clock: Callable[[], float] = time.time) -> RunningStorage:
    """Serve the stand-in with uvicorn from a daemon thread on 127.0.0.1 (port 0 picks a free one)."""
    import socket

    standin = SupabaseStorageStandIn(root, service_key=service_key, jwt_secret=jwt_secret,
                                     file_size_limit=file_size_limit, clock=clock)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(standin.app, log_level="warning", access_log=False, lifespan="off",
                            timeout_keep_alive=30)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])),
                              name="supabase-storage", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    return RunningStorage(standin, server, thread, sock.getsockname()[1])
