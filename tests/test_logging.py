"""Logs: one JSON object per line in Cloud Logging's shape, and never a credential."""

from __future__ import annotations

import io
import json

import pytest

from shared import log


@pytest.fixture
def captured():
    stream = io.StringIO()
    log.configure("DEBUG", stream=stream)
    yield stream
    log.configure()
    log.clear_context()


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_lines_are_cloud_logging_json_with_request_context(captured) -> None:
    log.bind_context(request_id="req-1", user_id="u-1", platform="youtube", post_id="p-1", target_id="t-1")
    log.get_logger("test").warning("step failed", step="upload")
    (line,) = _lines(captured)
    assert line["severity"] == "WARNING" and line["message"] == "step failed"
    assert {k: line[k] for k in ("request_id", "user_id", "platform", "post_id", "target_id")} == {
        "request_id": "req-1", "user_id": "u-1", "platform": "youtube", "post_id": "p-1", "target_id": "t-1"}
    assert line["step"] == "upload" and "time" in line


def test_credentials_are_redacted_wherever_they_appear(captured) -> None:
    log.get_logger("test").info(
        "calling",
        url="https://cdn.example/v.mp4?expires=1&token=SECRET1&sig=SECRET2",
        headers={"Authorization": "Bearer SECRET3", "X-Other": "fine"},
        detail="OAuth SECRET4 was refused",
        access_token="SECRET5",
        nested={"refresh_token": "SECRET6", "api_key": "SECRET7", "list": ["Bearer SECRET8"]},
    )
    text = captured.getvalue()
    for n in range(1, 9):
        assert f"SECRET{n}" not in text
    line = _lines(captured)[0]
    assert line["headers"]["X-Other"] == "fine" and line["url"].startswith("https://cdn.example/v.mp4?expires=1")
