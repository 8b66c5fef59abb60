"""A small WSGI file server for the local storage backend's signed URLs.

GET/HEAD `/<bucket>/<path>?expires=…&sig=…` with single Range requests (platforms
and resumable downloads use them). Expired or tampered links get 403 with a plain
message; nothing else in the bucket is reachable.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Iterator
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from shared.log import get_logger
from shared.storage.base import ObjectNotFound, RangeNotSatisfiable, StorageError, file_part, requested_range
from shared.storage.local import LocalStorage
from shared.wsgi_server import RunningServer, serve_in_thread

log = get_logger(__name__)


def _plain(start_response: StartResponse, status: str, message: str) -> list[bytes]:
    body = (message + "\n").encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


class LocalFileApp:
    def __init__(self, storage: LocalStorage) -> None:
        self.storage = storage

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return _plain(start_response, "405 Method Not Allowed", "Only downloads are allowed here.")
        raw_path = urllib.parse.unquote(environ.get("PATH_INFO", "")).lstrip("/")
        bucket, _, path = raw_path.partition("/")
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        expires = (query.get("expires") or [""])[0]
        signature = (query.get("sig") or [""])[0]
        if bucket != self.storage.bucket or not path:
            return _plain(start_response, "404 Not Found", "There is no file at this address.")
        try:
            problem = self.storage.check_signature(path, expires, signature)
        except StorageError:
            problem = "This link is not valid. Please ask for a new one."
        if problem:
            log.info("signed url refused", path=path, reason=problem)
            return _plain(start_response, "403 Forbidden", problem)
        try:
            size = self.storage.size(path)
        except ObjectNotFound:
            return _plain(start_response, "404 Not Found", "This file is no longer available.")

        try:
            wanted = requested_range(environ.get("HTTP_RANGE"), size)
        except RangeNotSatisfiable:
            return self._unsatisfiable(start_response, size)
        start, end = wanted or (0, size - 1)
        status = "206 Partial Content" if wanted else "200 OK"
        headers = [
            ("Content-Type", "video/mp4" if path.endswith(".mp4") else _guess_type(path)),
            ("Content-Length", str(end - start + 1)),
            ("Accept-Ranges", "bytes"),
        ]
        if status.startswith("206"):
            headers.append(("Content-Range", f"bytes {start}-{end}/{size}"))
        download = (query.get("download") or [""])[0]
        if download:
            headers.append(("Content-Disposition", f'attachment; filename="{download}"'))
        start_response(status, headers)
        if method == "HEAD":
            return [b""]
        return self._body(path, start, end - start + 1)

    def _unsatisfiable(self, start_response: StartResponse, size: int) -> list[bytes]:
        body = b"The requested part of the file is outside it.\n"
        start_response(
            "416 Range Not Satisfiable",
            [("Content-Range", f"bytes */{size}"), ("Content-Length", str(len(body))), ("Content-Type", "text/plain")],
        )
        return [body]

    def _body(self, path: str, start: int, length: int) -> Iterator[bytes]:
        with self.storage.open(path) as handle:
            yield from file_part(handle, start, length)


def _guess_type(path: str) -> str:
    import mimetypes

    return mimetypes.guess_type(path)[0] or "application/octet-stream"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # URLs carry signatures: never log them
        pass


def _make(storage: LocalStorage, host: str, port: int) -> BaseWSGIServer:
    return make_server(host, port, LocalFileApp(storage), threaded=True, request_handler=_QuietHandler)


def start_in_thread(storage: LocalStorage, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve `storage` in a daemon thread (port 0 picks a free one)."""
    running = serve_in_thread(LocalFileApp(storage), name="local-storage", port=port, host=host,
                              request_handler=_QuietHandler)
    if storage._base_url is None:  # signed URLs point at this server unless LOCAL_STORAGE_URL says otherwise
        storage._base_url = running.url
    return running


def serve(port: int, storage: LocalStorage | None = None, host: str = "127.0.0.1") -> None:
    """Serve the configured local storage in the foreground (used by `make run`)."""
    from shared.app import application  # the application is only needed when no storage is given

    chosen = storage or application().storage
    assert isinstance(chosen, LocalStorage), "the file server only serves the local storage backend"
    _make(chosen, host, port).serve_forever()
