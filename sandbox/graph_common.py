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
from flask import Flask, Response, request

from sandbox.core import Fault, Sandbox, TokenProblem, bearer_token, generic_fault


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


USAGE_WINDOW_S = 3600.0
# Defaults far above what tests use; `<platform>.calls_per_hour` (per Page / IG account) and
# `<platform>.app_calls_per_hour` lower them.
DEFAULT_ACCOUNT_CALLS_PER_HOUR = 4800
DEFAULT_APP_CALLS_PER_HOUR = 200_000
_PREFIXES = {"/facebook-graph/": ("facebook", 32, "pages"), "/instagram-graph/": ("instagram", 80002, "instagram")}


def install_usage_accounting(app: Flask, sb: Sandbox) -> None:
    """Meta's call-count rate limits on every Graph call with a user's token.

    Each answer carries `X-App-Usage` and `X-Business-Use-Case-Usage` (percent of the hourly
    budget used); once an account's (or the app's) budget is spent, calls are refused with
    the throttling error and a regain time, and the refusal is kept in store "usage_refused".
    https://developers.facebook.com/docs/graph-api/overview/rate-limiting
    """
    if app.extensions.get("graph_usage_accounting"):
        return
    app.extensions["graph_usage_accounting"] = True

    def caller() -> tuple[str, str, int, str] | None:
        prefix = next((p for p in _PREFIXES if request.path.startswith(p)), None)
        value = bearer_token()
        if prefix is None or not value:
            return None
        platform, code, usage_type = _PREFIXES[prefix]
        token = sb.tokens.get(value)
        if token is None or token.platform != platform or token.kind != "access":
            return None
        return platform, token.account_id, code, usage_type

    def calls(platform: str, key: str) -> list[float]:
        recent = sb.store(platform).setdefault("graph_calls", {}).setdefault(key, [])
        recent[:] = [t for t in recent if t > time.time() - USAGE_WINDOW_S]
        return recent

    def limits(platform: str) -> tuple[int, int]:
        return (int(sb.setting("calls_per_hour", platform, DEFAULT_ACCOUNT_CALLS_PER_HOUR)),
                int(sb.setting("app_calls_per_hour", platform, DEFAULT_APP_CALLS_PER_HOUR)))

    def usage_headers(platform: str, account_id: str, usage_type: str) -> dict[str, str]:
        account_limit, app_limit = limits(platform)
        account_pct = min(100, round(100 * len(calls(platform, account_id)) / account_limit))
        app_pct = min(100, round(100 * len(calls(platform, "app")) / app_limit))
        regain = 0 if account_pct < 100 else max(1, round((calls(platform, account_id)[0] + USAGE_WINDOW_S
                                                           - time.time()) / 60))
        business = {account_id: [{"type": usage_type, "call_count": account_pct, "total_cputime": account_pct // 2,
                                  "total_time": account_pct // 2, "estimated_time_to_regain_access": regain}]}
        return {"X-App-Usage": json.dumps({"call_count": app_pct, "total_cputime": app_pct // 2,
                                           "total_time": app_pct // 2}),
                "X-Business-Use-Case-Usage": json.dumps(business)}

    @app.before_request
    def _graph_rate_limit() -> Response | None:
        found = caller()
        if found is None:
            return None
        platform, account_id, code, usage_type = found
        account_limit, app_limit = limits(platform)
        with sb.lock:
            if len(calls(platform, account_id)) >= account_limit or len(calls(platform, "app")) >= app_limit:
                sb.store(platform).setdefault("usage_refused", []).append((account_id, request.path))
                return graph_error(400, code if len(calls(platform, "app")) < app_limit else 4,
                                   "There have been too many calls for this account. Wait a bit and try again.",
                                   is_transient=True, headers=usage_headers(platform, account_id, usage_type))
            calls(platform, account_id).append(time.time())
            calls(platform, "app").append(time.time())
        return None

    @app.after_request
    def _graph_usage_headers(response: Response) -> Response:
        found = caller()
        if found is not None:
            platform, account_id, _, usage_type = found
            for name, value in usage_headers(platform, account_id, usage_type).items():
                if name not in response.headers:  # an error's own regain time stays
                    response.headers[name] = value
        return response


def unix_now() -> float:
    return time.time()


def meta_header(name: str) -> str | None:
    """A request header whose name has "_" in it (`file_size`, `file_url`): werkzeug drops
    those from the environ, so read the raw headers the sandbox server keeps."""
    raw = request.environ.get("sandbox.raw_headers") or {}
    return raw.get(name.lower()) or request.headers.get(name)
