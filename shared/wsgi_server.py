"""A WSGI app served from a background thread: the local stand-ins (functions, storage, sandbox)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


@dataclass
class RunningServer:
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_in_thread(
    app: Any, *, name: str, port: int = 0, host: str = "127.0.0.1",
    request_handler: type[WSGIRequestHandler] | None = None,
) -> RunningServer:
    """Serve `app` from a daemon thread (port 0 picks a free one)."""
    server = make_server(host, port, app, threaded=True, request_handler=request_handler)
    # A short poll interval: `shutdown()` waits up to one interval, and the tests stop dozens of servers.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True)
    thread.start()
    return RunningServer(server, thread)
