"""Functions outside the route table's dispatch: the operator's metrics and the Cloud Tasks / Scheduler targets.

They share the edge of shared/http.py (one error shape, request ids) with the dispatched functions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flask

from shared.api.routes import methods_for
from shared.api_error import ApiError
from shared.app import application
from shared.http import _request_id, framework_errors_as_json, guarded
from shared.log import bind_context, clear_context, get_logger
from shared.tasks.oidc import TaskAuthError, verify_task_request

log = get_logger(__name__)


def _function_prefix(handler: Callable[..., Any]) -> str:
    """`functions.publish_video` → `/publish-video`: the deployed function's path."""
    return "/" + handler.__module__.rsplit(".", 1)[-1].replace("_", "-")


def public_endpoint(handler: Callable[[flask.Request], Any]) -> Callable[[flask.Request], flask.Response]:
    """A function outside the route table (the operator's metrics): errors still leave in one shape.

    The user-facing functions are built by shared/api/dispatch.py from the route table instead.
    """
    framework_errors_as_json()

    @functools.wraps(handler)
    def wrapper(request: flask.Request) -> flask.Response:
        clear_context()
        bind_context(request_id=_request_id(request))
        return guarded(request, _function_prefix(handler), lambda: handler(request), methods_for)

    return wrapper


def internal_endpoint(handler: Callable[[flask.Request], Any]) -> Callable[[flask.Request], flask.Response]:
    """A Cloud Tasks / Cloud Scheduler target: only Google's signed calls get in (production)."""
    framework_errors_as_json()

    @functools.wraps(handler)
    def wrapper(request: flask.Request) -> flask.Response:
        clear_context()
        bind_context(request_id=_request_id(request))

        def call() -> Any:
            # Read per task call, not imported with the module: pydantic-settings is no part of cold start.
            from shared.config import load
            from shared.tasks.settings import TasksSettings

            try:
                app = application()
                verify_task_request(request.headers, settings=load(TasksSettings),
                                    environment=app.settings.environment, now=app.clock().timestamp())
            except TaskAuthError as exc:
                # Every task refused is work not done: the operator must see why (audience, account, expiry).
                log.warning("task_auth_refused", reason=exc.reason)
                raise ApiError(403, "forbidden", "This endpoint only accepts calls from our task queue.",
                               str(exc)) from None
            return handler(request)

        return guarded(request, _function_prefix(handler), call, methods_for)

    return wrapper
