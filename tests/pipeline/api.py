"""Call the publish-video Cloud Function the way functions-framework does, on a harness runtime."""

from __future__ import annotations

from typing import Any

from tests.support.stack import Harness, bearer


def call(harness: Harness, monkeypatch: Any, method: str, path: str, *, user: dict[str, str] | None = None,
         json: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    import flask

    import functions.publish_video as publish_video

    monkeypatch.setattr(publish_video, "runtime", lambda: harness.rt)
    app = flask.Flask("functions-under-test")
    all_headers = {**(bearer(user) if user else {}), **(headers or {})}
    with app.test_request_context(path, method=method, headers=all_headers, json=json):
        response = publish_video.publish_video(flask.request)
    return response.status_code, response.get_json()
