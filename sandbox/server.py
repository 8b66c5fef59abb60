"""Serve every platform simulator from one local HTTP server.

    python -m sandbox.server --port 8700

Each module in this package with a `register(app, sandbox)` function is a platform
simulator and is mounted automatically.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
from dataclasses import dataclass
from types import ModuleType

from flask import Flask, request
from werkzeug.serving import WSGIRequestHandler

import sandbox
from sandbox.core import Sandbox, register_control
from shared.wsgi_server import RunningServer, serve_in_thread

_NOT_PLATFORMS = {"core", "server", "client"}


def create_app(sb: Sandbox | None = None) -> tuple[Flask, Sandbox]:
    sb = sb or Sandbox()
    app = Flask("sandbox")
    app.config["MAX_CONTENT_LENGTH"] = None
    register_control(app, sb)

    @app.before_request
    def _record_request() -> None:
        # Every request as "METHOD /path" (no query: tokens stay out), so tests can show what was called.

        with sb.lock:
            sb.requests.append({"method": request.method, "path": request.path})

    for mod in platform_modules():
        mod.register(app, sb)
    return app, sb


def platform_modules() -> list[ModuleType]:
    """Every platform simulator in this package (a module with a `register(app, sandbox)` function)."""
    found = []
    for module in pkgutil.iter_modules(sandbox.__path__):
        if module.name in _NOT_PLATFORMS:
            continue
        mod = importlib.import_module(f"sandbox.{module.name}")
        if hasattr(mod, "register"):
            found.append(mod)
    return found


class _RawHeadersHandler(WSGIRequestHandler):
    """Also keeps headers with "_" in their names, which werkzeug leaves out of the
    environ (Meta's rupload uses `file_size` and `file_url`): `environ["sandbox.raw_headers"]`."""

    def make_environ(self) -> dict:  # type: ignore[override]
        environ = super().make_environ()
        environ["sandbox.raw_headers"] = {key.lower(): value for key, value in self.headers.items()}
        return environ


@dataclass
class RunningSandbox(RunningServer):
    sandbox: Sandbox


def start(port: int = 0, host: str = "127.0.0.1") -> RunningSandbox:
    """Start the sandbox in a background thread (port 0 picks a free one)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app, sb = create_app()
    running = serve_in_thread(app, name="sandbox", port=port, host=host, request_handler=_RawHeadersHandler)
    return RunningSandbox(running.server, running.thread, sb)


def main() -> None:
    parser = argparse.ArgumentParser(description="shortpub platform sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700)
    args = parser.parse_args()
    running = start(args.port, args.host)
    print(f"platform sandbox listening on {running.url}", flush=True)
    try:
        running.thread.join()
    except KeyboardInterrupt:
        running.stop()


if __name__ == "__main__":
    main()
