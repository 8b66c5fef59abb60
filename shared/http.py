"""The HTTP edge every Cloud Function shares: auth, errors, CORS, request ids.

Every error leaves in one shape: {"code", "message", "detail", "request_id"}.
`message` is written for the person using the product; `detail` is for the
developer integrating the frontend (field names, limits); neither ever carries
a secret.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import flask
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from shared.config import core
from shared.log import bind_context, clear_context, get_logger

log = get_logger(__name__)
M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class User:
    id: str
    email: str | None
    claims: dict[str, Any] = field(default_factory=dict)


def _request_id(request: flask.Request) -> str:
    trace = request.headers.get("X-Cloud-Trace-Context", "").split("/")[0]
    return request.headers.get("X-Request-Id") or trace or uuid.uuid4().hex


def error_response(status: int, code: str, message: str, detail: Any = None) -> flask.Response:
    from shared.log import _current_request_id

    body = {"code": code, "message": message, "detail": detail, "request_id": _current_request_id()}
    return _cors(flask.make_response(flask.jsonify(body), status))


def _cors(response: flask.Response) -> flask.Response:
    response.headers["Access-Control-Allow-Origin"] = core().frontend_url
    response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, PUT, DELETE, OPTIONS"
    response.headers["Vary"] = "Origin"
    return response


def _field_problems(exc: ValidationError) -> list[dict[str, str]]:
    problems = []
    for err in exc.errors():
        location = ".".join(str(p) for p in err["loc"] if p != "__root__") or "request"
        message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        problems.append({"field": location, "problem": message})
    return problems


def validation_error(exc: ValidationError) -> ApiError:
    problems = _field_problems(exc)
    summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
    return ApiError(422, "invalid_request", f"Please check your request: {summary}", problems)


def json_body(request: flask.Request, model: type[M]) -> M:
    raw = request.get_data(cache=True)
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise validation_error(exc) from None


def _to_response(result: Any) -> flask.Response:
    if isinstance(result, flask.Response):
        return _cors(result)
    status = 200
    if isinstance(result, tuple):
        result, status = result
    # One JSON form for every answer: ISO 8601 times and string ids (Flask alone writes HTTP dates).
    result = result.model_dump(mode="json") if isinstance(result, BaseModel) else to_jsonable_python(result)
    return _cors(flask.make_response(flask.jsonify(result), status))


def _guarded(request: flask.Request, call: Callable[[], Any]) -> flask.Response:
    try:
        return _to_response(call())
    except ApiError as exc:
        if exc.status >= 500:
            log.error("request failed", code=exc.code, detail=exc.detail)
        return error_response(exc.status, exc.code, exc.message, exc.detail)
    except ValidationError as exc:
        err = validation_error(exc)
        return error_response(err.status, err.code, err.message, err.detail)
    except Exception:
        log.exception("unhandled error", path=request.path)
        return error_response(
            500, "internal_error", "Something went wrong on our side. Please try again in a minute."
        )
    finally:
        clear_context()


def authenticate(request: flask.Request) -> User:
    from shared.auth import AuthenticationError, SigningKeysUnavailable, verify_access_token

    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not header[7:].strip():
        raise ApiError(401, "unauthenticated", "Please sign in to continue.")
    try:
        claims = verify_access_token(header[7:].strip())
    except AuthenticationError as exc:
        raise ApiError(401, "invalid_token", exc.reason) from None
    except SigningKeysUnavailable:
        # Supabase's keys are out of reach: not the user's fault, so no "sign in again".
        raise ApiError(
            503, "auth_unavailable", "We can't check your sign-in right now. Please try again in a minute."
        ) from None
    return User(id=str(claims.user_id), email=claims.email, claims=dict(claims.raw))


def user_endpoint(handler: Callable[[flask.Request, User], Any]) -> Callable[[flask.Request], flask.Response]:
    """A user-facing function: verifies the Supabase JWT and hands the handler the user."""

    @functools.wraps(handler)
    def wrapper(request: flask.Request) -> flask.Response:
        clear_context()
        bind_context(request_id=_request_id(request))
        if request.method == "OPTIONS":
            return _cors(flask.make_response("", 204))

        def call() -> Any:
            user = authenticate(request)
            bind_context(user_id=user.id)
            return handler(request, user)

        return _guarded(request, call)

    return wrapper


def public_endpoint(handler: Callable[[flask.Request], Any]) -> Callable[[flask.Request], flask.Response]:
    """A function anyone may call (health, OAuth callbacks): errors still leave in one shape."""

    @functools.wraps(handler)
    def wrapper(request: flask.Request) -> flask.Response:
        clear_context()
        bind_context(request_id=_request_id(request))
        return _guarded(request, lambda: handler(request))

    return wrapper


def internal_endpoint(handler: Callable[[flask.Request], Any]) -> Callable[[flask.Request], flask.Response]:
    """A Cloud Tasks / Cloud Scheduler target: only Google's signed calls get in (production)."""

    @functools.wraps(handler)
    def wrapper(request: flask.Request) -> flask.Response:
        clear_context()
        bind_context(request_id=_request_id(request))

        def call() -> Any:
            from shared.tasks.oidc import TaskAuthError, verify_task_request

            try:
                verify_task_request(request.headers)
            except TaskAuthError as exc:
                # Every task refused is work not done: the operator must see why (audience, account, expiry).
                log.warning("task_auth_refused", reason=exc.reason)
                raise ApiError(403, "forbidden", "This endpoint only accepts calls from our task queue.",
                               str(exc)) from None
            return handler(request)

        return _guarded(request, call)

    return wrapper
