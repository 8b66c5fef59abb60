"""The HTTP edge every Cloud Function shares: auth, errors, CORS, request ids.

Every error leaves in one shape: {"code", "message", "detail", "request_id"}.
`message` is written for the person using the product; `detail` is for the
developer integrating the frontend (field names, limits); neither ever carries
a secret.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import flask
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python
from werkzeug.exceptions import ClientDisconnected, HTTPException

from shared.api_error import ApiError
from shared.app import application
from shared.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    LimitReached,
    NotFound,
    Rejected,
    TooLarge,
    Unauthenticated,
    Unavailable,
    UpstreamRefused,
)
from shared.log import _current_request_id, bind_context, clear_context, get_logger
from shared.platforms.errors import ErrorClass, PlatformError
from shared.strict import NUL_MESSAGE, nul_fields, unknown_fields
from shared.users import User

log = get_logger(__name__)
M = TypeVar("M", bound=BaseModel)


# The one table from a domain error's kind to its HTTP status (the nearest kind in the class's MRO wins).
ERROR_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 422,
    Rejected: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,         # also NotEditable, QuotaExceeded
    TooLarge: 413,
    LimitReached: 429,
    UpstreamRefused: 502,
    Unavailable: 503,
    DomainError: 400,
}


def status_of(exc: DomainError) -> int:
    return next(ERROR_STATUS[kind] for kind in type(exc).__mro__ if kind in ERROR_STATUS)


def as_api_error(exc: Exception) -> ApiError | None:
    """The answer for an error a service raised (None: not an error the edge knows; a 500)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, DomainError):
        return ApiError(status_of(exc), exc.code, exc.message, exc.detail)
    if isinstance(exc, PlatformError):
        # A platform's refusal that reached the edge (while connecting an account): its outage is
        # 503 (try again), any other refusal 502; the platform's own code is for the developer.
        status = 503 if exc.error_class is ErrorClass.TRANSIENT else 502
        return ApiError(status, f"platform_{exc.error_class}", exc.user_message, {"platform_code": exc.code})
    return None


def _request_id(request: flask.Request) -> str:
    trace = request.headers.get("X-Cloud-Trace-Context", "").split("/")[0]
    return request.headers.get("X-Request-Id") or trace or uuid.uuid4().hex


def start_request(request: flask.Request) -> None:
    """A new request: its id goes on every log line until the answer is sent."""
    clear_context()
    bind_context(request_id=_request_id(request))


def error_body(code: str, message: str, detail: Any = None, request_id: str | None = None) -> dict[str, Any]:
    """Every error, from every route (the document's `ErrorBody`)."""
    return {"code": code, "message": message, "detail": detail, "request_id": request_id}


def error_response(status: int, code: str, message: str, detail: Any = None) -> flask.Response:
    body = error_body(code, message, detail, _current_request_id())
    return _cors(flask.make_response(flask.jsonify(body), status))


ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-Id, X-Filename"
ALL_METHODS = "GET, POST, PATCH, PUT, DELETE, OPTIONS"


def _cors(response: flask.Response, methods: str = ALL_METHODS) -> flask.Response:
    """Allow the configured frontend origins (FRONTEND_ORIGINS); other origins get no CORS headers."""
    origin = flask.request.headers.get("Origin", "").rstrip("/") if flask.has_request_context() else ""
    if origin and origin in application().settings.allowed_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Allow-Methods"] = methods
        response.headers["Access-Control-Expose-Headers"] = "Content-Disposition, X-Request-Id"
        response.headers["Access-Control-Max-Age"] = "600"
    response.headers["Vary"] = "Origin"
    return response


def _where(loc: tuple[Any, ...], data: Any) -> str:
    """A dotted field path; a union's tag (targets.0.tiktok.options) is left out where the data shows it."""
    parts, node = [], data
    for part in loc:
        if isinstance(node, dict) and part not in node and part in node.values():
            continue  # the tag pydantic puts in the location of a discriminated union member
        parts.append(str(part))
        inside = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node))
        node = node[part] if inside else None
    return ".".join(p for p in parts if p != "__root__") or "request"


def _field_problems(exc: ValidationError, data: Any = None) -> list[dict[str, str]]:
    problems = []
    for err in exc.errors():
        location = _where(tuple(err["loc"]), data)
        message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append({"field": location, "problem": message})
    return problems


def _invalid(problems: list[dict[str, str]]) -> ApiError:
    summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
    return ApiError(422, "invalid_request", f"Please check your request: {summary}", problems)


def validation_error(exc: ValidationError, data: Any = None) -> ApiError:
    return _invalid(_field_problems(exc, data))


JSON_TYPES = ("application/json",)
MAX_JSON_BYTES = 2 * 1024 * 1024
# Bodies the handler streams itself (videos, cover images): the edge never reads them ahead.
STREAMED_PREFIXES = ("video/", "image/", "application/octet-stream")


def _validate_input(model: type[M], data: Any, raw_json: bytes | None = None) -> M:
    """The checks every input gets (see shared/strict.py), then the model's own.

    A JSON body is validated strictly (`"yes"` is not a boolean, `"5"` not a number); a query
    string, where everything is text, is converted.
    """
    problems = [{"field": where, "problem": NUL_MESSAGE} for where in nul_fields(data)]
    problems += list(unknown_fields(model, data))
    if problems:
        raise _invalid(problems)
    try:
        if raw_json is not None:
            return model.model_validate_json(raw_json, strict=True)
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data) from None


def json_body(request: flask.Request, model: type[M]) -> M:
    """The JSON body as `model`. An empty body is `{}`; a body needs Content-Type: application/json."""
    raw = request.get_data(cache=True)
    if not raw:
        return _validate_input(model, {})
    if request.mimetype not in JSON_TYPES:
        raise ApiError(415, "send_json", "Please send this request as JSON (Content-Type: application/json).",
                       {"content_type": request.mimetype or None})
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_request", "Please check your request: the body must be a JSON object.")
    return _validate_input(model, data, raw)


def query_args(request: flask.Request, model: type[M]) -> M:
    """The query string as `model`, with the same checks as a JSON body."""
    return _validate_input(model, request.args.to_dict())


def _to_response(result: Any) -> flask.Response:
    if isinstance(result, flask.Response):
        return _cors(result)
    status = 200
    if isinstance(result, tuple):
        result, status = result
    # One JSON form for every answer: ISO 8601 times with offset and string ids (Flask's own encoder
    # would write datetimes as HTTP dates).
    result = result.model_dump(mode="json") if isinstance(result, BaseModel) else to_jsonable_python(result)
    return _cors(flask.make_response(flask.jsonify(result), status))


def stop_reading(request: flask.Request) -> None:
    """Answer without reading the rest of the body: the server closes the connection after the answer.

    The local server (shared/wsgi_server.py) puts this hook in the environ; on Cloud Functions the
    front end has already received the whole body, so there is nothing to stop.
    """
    hook = request.environ.get("shortpub.stop_reading")
    if callable(hook):
        hook()


def _incomplete_body() -> ApiError:
    return ApiError(400, "incomplete_body", "The request ended before all of its body arrived. Please send it again.",
                    "The body is shorter than its Content-Length.")


def _read_ahead(request: flask.Request) -> None:
    """Read a JSON-sized body before the handler runs: a short body is a 400 now, not a hang later."""
    length = request.content_length
    if not length or request.mimetype.startswith(STREAMED_PREFIXES):
        return
    if length > MAX_JSON_BYTES:
        stop_reading(request)
        raise ApiError(413, "body_too_large",
                       "This request is too large. Videos are uploaded to storage and added with "
                       "POST /videos/register; other requests are small JSON.",
                       {"max_bytes": MAX_JSON_BYTES})
    data = request.get_data(cache=True)
    if len(data) < length:
        raise _incomplete_body()


def deployed_path(prefix: str, request: flask.Request) -> str:
    """The path as the route table writes it (/publish-video/posts/<id>), whatever the host hands over."""
    path = request.path.rstrip("/")
    # Cloud Functions hands the function the path after its name; some hosts keep the name in it.
    if not (path == prefix or path.startswith(prefix + "/")):
        path = prefix + path
    return path


def guarded(request: flask.Request, prefix: str, call: Callable[[], Any],
            declared_methods: Callable[[str], list[str] | None]) -> flask.Response:
    """Run `call` for a request to the function at `prefix`; whatever happens, one answer in one shape.

    `declared_methods` answers the methods the route table declares for a path (None: a path it
    does not know); the caller hands it in, as the route table sits above this module.
    """
    try:
        methods = declared_methods(deployed_path(prefix, request))
        if request.method == "OPTIONS":
            allowed = ", ".join([*(methods or ALL_METHODS.split(", ")), "OPTIONS"])
            return _cors(flask.make_response("", 204), allowed)
        if methods is not None and request.method not in methods and not (
            request.method == "HEAD" and "GET" in methods
        ):
            response = error_response(405, "method_not_allowed",
                                      f"{request.method} is not possible here; use {' or '.join(methods)}.",
                                      {"allowed": methods})
            response.headers["Allow"] = ", ".join([*methods, "OPTIONS"])
            return response
        _read_ahead(request)
        return _to_response(call())
    except (ApiError, DomainError, PlatformError) as exc:
        answer = as_api_error(exc)
        assert answer is not None
        if answer.status >= 500:
            log.error("request failed", code=answer.code, detail=answer.detail)
        return error_response(answer.status, answer.code, answer.message, answer.detail)
    except ValidationError as exc:
        err = validation_error(exc)
        return error_response(err.status, err.code, err.message, err.detail)
    except (ClientDisconnected, TimeoutError):
        # The client stopped sending mid-body (or sent less than Content-Length): its mistake, one log line.
        log.info("request body incomplete", path=request.path)
        stop_reading(request)
        err = _incomplete_body()
        return error_response(err.status, err.code, err.message, err.detail)
    except Exception:
        log.exception("unhandled error", path=request.path)
        return error_response(
            500, "internal_error", "Something went wrong on our side. Please try again in a minute."
        )
    finally:
        # Whatever of the body the handler did not need is not read: the answer goes out now.
        stop_reading(request)
        clear_context()


def authenticate(request: flask.Request) -> User:
    # Imported on first use: PyJWT with its cryptography costs ~0.3 s of cold start, which the task
    # and scheduler functions (no user sign-in) would pay for nothing.
    from shared.auth import AuthenticationError, SigningKeysUnavailable, verify_access_token

    # The scheme is case-insensitive (RFC 9110 §11.1): "bearer x" is as good as "Bearer x".
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthenticated", "Please sign in to continue.")
    try:
        claims = verify_access_token(token)
    except AuthenticationError as exc:
        raise ApiError(401, "invalid_token", exc.reason) from None
    except SigningKeysUnavailable:
        # Supabase's keys are out of reach: not the user's fault, so no "sign in again".
        raise ApiError(
            503, "auth_unavailable", "We can't check your sign-in right now. Please try again in a minute."
        ) from None
    return User(id=str(claims.user_id), email=claims.email, claims=dict(claims.raw))


def framework_errors_as_json() -> None:
    """Errors the framework answers itself leave in our JSON shape too.

    functions-framework routes `/robots.txt` and `/favicon.ico` to Flask's HTML 404 before the
    function is called. It imports the function's module inside the app's context, so the
    endpoint decorators below can register a handler on that app (once per app).
    """
    if not flask.has_app_context():
        return
    app = flask.current_app
    # A decorator also runs when a module is first imported during a request (a lazy import):
    # by then the app is set up, and Flask allows no new handlers.
    if app.config.get("SHORTPUB_JSON_ERRORS") or getattr(app, "_got_first_request", False):
        return
    app.config["SHORTPUB_JSON_ERRORS"] = True

    def as_json(exc: HTTPException) -> flask.Response:
        if exc.code == 405:
            return error_response(405, "method_not_allowed", "This address does not take that method.")
        return error_response(exc.code or 404, "not_found", "There is nothing at this address.")

    app.register_error_handler(404, as_json)
    app.register_error_handler(405, as_json)
