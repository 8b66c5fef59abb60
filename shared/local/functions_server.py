"""Serve every Cloud Function in functions/ on one local port with functions-framework.

Each function is mounted under its deployed name (`publish_video.py` → `/publish-video`),
and the publish worker once per platform (`/publish-<platform>`), exactly as the
deployed URLs look, so the same clients and task URLs work locally and in production.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import functions_framework
from flask import Flask, jsonify
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from shared.db.local import PROJECT_ROOT
from shared.wsgi_server import RunningServer, serve_in_thread

FUNCTIONS_DIR = PROJECT_ROOT / "functions"


def function_names() -> list[str]:
    return sorted(p.stem for p in FUNCTIONS_DIR.glob("*.py") if not p.stem.startswith("_"))


def deployed_name(module: str) -> str:
    return module.replace("_", "-")


def mounts() -> dict[str, tuple[str, Path]]:
    """URL prefix → (entry point, source file)."""
    from shared.platforms import adapters

    found = {}
    for name in function_names():
        source = FUNCTIONS_DIR / f"{name}.py"
        if name == "publish_worker":
            for key in adapters():
                found[f"/publish-{key}"] = (name, source)
        else:
            found[f"/{deployed_name(name)}"] = (name, source)
    return found


def create_app() -> DispatcherMiddleware:
    index = Flask("functions-index")
    table = mounts()

    @index.get("/")
    def _index() -> Any:
        return jsonify(functions=sorted(table), openapi="/openapi.json")

    @index.get("/openapi.json")
    def _openapi() -> Any:
        from shared.api.openapi import openapi_document

        return jsonify(openapi_document())

    apps = {prefix: _root_path(functions_framework.create_app(target=target, source=str(source)))
            for prefix, (target, source) in table.items()}
    return DispatcherMiddleware(index, apps)  # type: ignore[arg-type]


def _root_path(app: Any) -> Any:
    """`/publish-video` reaches the function as `/`, as on Cloud Functions (no redirect to `/publish-video/`)."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("PATH_INFO"):
            environ["PATH_INFO"] = "/"
        return app(environ, start_response)

    return wsgi


def start(port: int = 0) -> RunningServer:
    return serve_in_thread(create_app(), name="functions", port=port)
