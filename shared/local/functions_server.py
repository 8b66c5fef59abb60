"""Serve every Cloud Function in functions/ on one local port with functions-framework.

Each function is mounted under its deployed name (`publish_video.py` → `/publish-video`),
and the publish worker once per platform (`/publish-<platform>`), exactly as the
deployed URLs look, so the same clients and task URLs work locally and in production.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import flask
import functions_framework
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import WSGIRequestHandler

from shared.db.local import PROJECT_ROOT
from shared.http import _request_id, error_body, error_response
from shared.log import bind_context
from shared.platforms import adapters
from shared.wsgi_server import RunningServer, serve_in_thread

# A client that stops sending mid-body gets a 400 after this long, instead of holding the request open.
BODY_READ_TIMEOUT_S = 5.0

FUNCTIONS_DIR = PROJECT_ROOT / "functions"


def function_names() -> list[str]:
    return sorted(p.stem for p in FUNCTIONS_DIR.glob("*.py") if not p.stem.startswith("_"))


def deployed_name(module: str) -> str:
    return module.replace("_", "-")


def mounts() -> dict[str, tuple[str, Path]]:
    """URL prefix → (entry point, source file)."""
    found = {}
    for name in function_names():
        source = FUNCTIONS_DIR / f"{name}.py"
        if name == "publish_worker":
            for key in adapters():
                found[f"/publish-{key}"] = (name, source)
        else:
            found[f"/{deployed_name(name)}"] = (name, source)
    return found


def _json_errors(app: Flask) -> Flask:
    """Whatever the framework itself answers (unknown path, method) leaves as the API's JSON error body."""
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        bind_context(request_id=_request_id(flask.request))
        code = exc.code or 500
        if code == 404:
            return error_response(404, "not_found", "There is nothing at this address.")
        if code == 405:
            response = error_response(405, "method_not_allowed", f"{flask.request.method} is not possible here.")
            response.headers["Allow"] = ", ".join(getattr(exc, "valid_methods", None) or ["GET", "OPTIONS"])
            return response
        return error_response(code, exc.name.lower().replace(" ", "_"), exc.description or exc.name)

    return app


def _function_app(target: str, source: Path) -> Flask:
    app: Flask = functions_framework.create_app(target=target, source=str(source))
    # functions-framework reads the whole body after every answer; a 413 must not wait for 1 GB to arrive,
    # and a body shorter than its Content-Length must not hang the answer (the edge reads what it needs).
    app.after_request_funcs[None] = [f for f in app.after_request_funcs.get(None, [])
                                     if getattr(f, "__name__", "") != "read_request"]
    return _json_errors(app)


class _Lingering(io.RawIOBase):
    """Reads what the client is still sending for LINGER_S at most, then reports the end."""

    LINGER_S = 1.0

    def __init__(self, raw: Any, connection: Any) -> None:
        self.raw, self.deadline = raw, time.monotonic() + self.LINGER_S
        connection.settimeout(0.1)

    def read(self, size: int = -1) -> bytes:
        if time.monotonic() >= self.deadline:
            return b""
        try:
            return bytes(self.raw.read1(min(size if size > 0 else 65536, 65536)))
        except OSError:
            return b""


class FunctionsRequestHandler(WSGIRequestHandler):
    """Times out a stalled body read, and lets the edge answer without draining the body."""

    timeout = BODY_READ_TIMEOUT_S

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        handler = self

        def stop_reading() -> None:
            # werkzeug drains what is left of the body after the answer (up to 10 GB). Instead, discard
            # for a moment only, so the client reads the answer before the connection closes.
            if not isinstance(handler.rfile, _Lingering):
                handler.rfile = _Lingering(handler.rfile, handler.connection)  # type: ignore[assignment]

        environ["shortpub.stop_reading"] = stop_reading
        return environ

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        # A client that went away mid-request is not our error: no traceback in the console.
        return

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What the server answers before a function sees the request (a request line or header over
        64 KB: 414/431, a malformed request: 400), as the same JSON error body every route answers."""
        text = _SERVER_ERRORS.get(code, "We couldn't read that request. Please check it and try again.")
        body = json.dumps(error_body(f"http_{code}", text)).encode()
        self.close_connection = True
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            return


_SERVER_ERRORS = {
    414: "That web address is too long. Long text (a prompt or a description) fits in a JSON body: "
         "add the video with POST /videos/register or /videos/import, or shorten it.",
    431: "The request's headers are too large. Please send fewer or shorter headers.",
}


def create_app() -> DispatcherMiddleware:
    index = _json_errors(Flask("functions-index"))
    table = mounts()

    @index.get("/")
    def _index() -> Any:
        return jsonify(functions=sorted(table), openapi="/openapi.json")

    document: dict[str, Any] = {}  # generated on the first request (about a second), then kept by this server

    @index.get("/openapi.json")
    def _openapi() -> Any:
        # Cost: the document's route table imports every function module and what they use; the deploy
        # CLI imports this module only for function_names(), so that load waits for the first request.
        from shared.api.openapi import generate

        if not document:
            document.update(generate())
        return jsonify(document)

    apps = {prefix: _root_path(_function_app(target, source)) for prefix, (target, source) in table.items()}
    return DispatcherMiddleware(index, apps)  # type: ignore[arg-type]


def _root_path(app: Any) -> Any:
    """`/publish-video` reaches the function as `/`, as on Cloud Functions (no redirect to `/publish-video/`)."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("PATH_INFO"):
            environ["PATH_INFO"] = "/"
        return app(environ, start_response)

    return wsgi


def start(port: int = 0) -> RunningServer:
    return serve_in_thread(create_app(), name="functions", port=port, request_handler=FunctionsRequestHandler)
