"""Call the publish-video Cloud Function the way functions-framework does, on a harness runtime.

The harness fixtures install the harness's application, so the function runs on `harness.rt`.
"""

from __future__ import annotations

from typing import Any

from tests.support.stack import Harness, bearer


def call(harness: Harness, monkeypatch: Any, method: str, path: str, *, user: dict[str, str] | None = None,
         json: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    import flask

    import functions.publish_video as publish_video
    from shared.app import application

    assert application().runtime is harness.rt, "install the harness's application first (make_app.install)"
    app = flask.Flask("functions-under-test")
    all_headers = {**(bearer(user) if user else {}), **(headers or {})}
    with app.test_request_context(path, method=method, headers=all_headers, json=json):
        response = publish_video.publish_video(flask.request)
    return response.status_code, response.get_json()
