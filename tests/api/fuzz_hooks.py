"""Schemathesis hooks for the API fuzz run (loaded through SCHEMATHESIS_HOOKS).

`wait` lets a publish request wait up to 30 s for final results by design; the fuzz
run holds every request to 5 s, so generated waits are capped at 1 s.
"""

from __future__ import annotations

from typing import Any

import schemathesis

MAX_WAIT_S = 1


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("wait"), (int, float)) and not isinstance(body["wait"], bool) \
            and body["wait"] > MAX_WAIT_S:
        body["wait"] = MAX_WAIT_S


@schemathesis.serializer("video/mp4", "video/quicktime", "video/webm", "image/jpeg", "image/png")
def raw_file(context: Any, value: Any) -> bytes:
    """Files are sent as the raw body: whatever was generated, as bytes."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")
