"""Meta Graph API answers shared by the Instagram and Facebook simulators.

Error envelope, token errors and rate-limit headers exactly as Graph sends them
(platform-apis.md §3.6). Not a platform module: it has no `register`.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import av
from flask import Response, request

from sandbox.core import Fault, TokenProblem, generic_fault


def object_id() -> str:
    """Graph ids are long decimal strings."""
    return str(17_000_000_000_000_000 + secrets.randbelow(10**15))


def graph_error(
    status: int,
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    user_title: str | None = None,
    user_msg: str | None = None,
    error_type: str = "OAuthException",
    is_transient: bool | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if is_transient is not None:
        error["is_transient"] = is_transient
    if user_title is not None:
        error["error_user_title"] = user_title
    if user_msg is not None:
        error["error_user_msg"] = user_msg
    error["fbtrace_id"] = secrets.token_urlsafe(8)
    response = Response(json.dumps({"error": error}), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def token_error(problem: TokenProblem) -> Response:
    if problem.reason == "missing":
        return graph_error(400, 104, "An access token is required to request this resource.")
    if problem.reason == "expired":
        return graph_error(
            400, 190,
            "Error validating access token: Session has expired on Monday, 23-Nov-26 10:00:00 PST.",
            subcode=463,
        )
    if problem.reason == "revoked":
        return graph_error(
            400, 190,
            "Error validating access token: The session has been invalidated because the user changed "
            "their password or Facebook has changed the session for security reasons.",
            subcode=460,
        )
    return graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")


def buc_header(account_id: str, minutes: float, usage_type: str) -> dict[str, str]:
    usage = {account_id: [{
        "type": usage_type, "call_count": 100, "total_cputime": 30, "total_time": 40,
        "estimated_time_to_regain_access": minutes,
    }]}
    return {"X-Business-Use-Case-Usage": json.dumps(usage)}


def common_fault(fault: Fault, account_id: str, usage_type: str) -> Response | None:
    """Fault kinds every Graph endpoint answers the same way; None for the caller's own kinds."""
    if fault.kind == "server_error":
        return graph_error(500, int(fault.params.get("code", 2)),
                           "An unexpected error has occurred. Please retry your request later.",
                           is_transient=True)
    if fault.kind == "rate_limited":
        minutes = float(fault.params.get("minutes", 5))
        code = int(fault.params.get("code", 80002))
        return graph_error(400, code, "There have been too many calls for this account. Wait a bit and try again.",
                           is_transient=True, headers=buc_header(account_id, minutes, usage_type))
    if fault.kind == "expired_token":
        return token_error(TokenProblem("expired"))
    if fault.kind == "permission":
        return graph_error(403, 10, "Application does not have permission for this action")
    if fault.kind == "policy_block":
        return graph_error(400, 368, "The action attempted has been deemed abusive or is otherwise disallowed")
    return generic_fault(fault)


def probe_codecs(url: str) -> tuple[str | None, float]:
    """The video codec and duration of a video at `url`, read the way an ingest pipeline would."""
    try:
        with av.open(url, timeout=30) as container:
            video = next((s for s in container.streams if s.type == "video"), None)
            duration = float(container.duration or 0) / 1_000_000
            return (video.codec_context.name if video else None), duration
    except (av.FFmpegError, OSError, StopIteration):
        return None, 0.0


def unix_now() -> float:
    return time.time()


def meta_header(name: str) -> str | None:
    """A request header whose name has "_" in it (`file_size`, `file_url`): werkzeug drops
    those from the environ, so read the raw headers the sandbox server keeps."""
    raw = request.environ.get("sandbox.raw_headers") or {}
    return raw.get(name.lower()) or request.headers.get(name)
