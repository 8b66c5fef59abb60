"""One deployed function answers its routes of the route table (shared/api/routes.py).

A function module in functions/ is a list of handlers, one per route it serves, and
one `dispatch(...)` call. The dispatcher finds the route for the request (404 when
there is none; 405 is answered before, from the same table), checks the caller
(signed in or not, as the route says), hands the handler a `Call`, and checks the
handler's answer is the route's response model (never a dict), with the route's status.
A handler that is missing, or one for a route the table does not declare, stops
the function at import: what is served and what is documented are the same list.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_args

import flask
from pydantic import BaseModel, RootModel

from shared.api.routes import ROUTES, Route, find_route, methods_for
from shared.http import (
    ApiError,
    User,
    authenticate,
    deployed_path,
    framework_errors_as_json,
    guarded,
    json_body,
    query_args,
    start_request,
)
from shared.log import bind_context

M = TypeVar("M", bound=BaseModel)
Handler = Callable[["Call"], Any]


class AnswerMismatch(RuntimeError):
    """A handler answered something its route does not declare: a bug, answered as a 500."""


def _nothing_here() -> ApiError:
    return ApiError(404, "not_found", "There is nothing at this address.")


@dataclass
class Call:
    """One request to one route: who asks, the path's parameters, and the body and query as its models."""

    request: flask.Request
    route: Route
    params: dict[str, str]
    signed_in: User | None
    _parsed: dict[str, BaseModel] = field(default_factory=dict)

    @property
    def user(self) -> User:
        assert self.signed_in is not None, f"{self.route.key} is public: it has no user"
        return self.signed_in

    def body(self, model: type[M]) -> M:
        """The JSON body as the route's body model (validated when first asked for, so a handler orders its checks)."""
        assert model is self.route.body_model(), f"{self.route.key} takes {self.route.body}, not {model}"
        return self._parse("body", lambda: json_body(self.request, model))  # type: ignore[return-value]

    def query(self, model: type[M]) -> M:
        assert model is self.route.query_model(), f"{self.route.key} takes {self.route.query}, not {model}"
        return self._parse("query", lambda: query_args(self.request, model))  # type: ignore[return-value]

    def _parse(self, part: str, parse: Callable[[], BaseModel]) -> BaseModel:
        if part not in self._parsed:
            self._parsed[part] = parse()
        return self._parsed[part]


def _checked_params(params: dict[str, str]) -> dict[str, str] | None:
    """Ids are UUIDs (in their canonical form) and platform keys short lowercase words; else no address of ours."""
    checked = dict(params)
    for name, value in params.items():
        if name.endswith("_id"):
            try:
                if len(value) != 36:
                    return None
                checked[name] = str(uuid.UUID(value))
            except ValueError:
                return None
        elif name == "platform" and not (len(value) <= 40 and value.replace("_", "").isalpha() and value.islower()):
            return None
    return checked


def built_as(model: type[BaseModel]) -> tuple[type, ...]:
    """The types a service returns for a route's model: the model itself, or each member of a RootModel union."""
    if issubclass(model, RootModel):
        return get_args(model.model_fields["root"].annotation) or (model.model_fields["root"].annotation,)
    return (model,)


def answer(route: Route, result: Any) -> Any:
    """The handler's result as the route declares it: (model, status), or a response the handler made."""
    if isinstance(result, flask.Response):
        return result
    if isinstance(result, tuple):
        result, status = result
    else:
        status = route.success
    if status not in route.responses:
        raise AnswerMismatch(f"{route.key} answered {status}, which the route table does not declare")
    model = route.response_model(status)
    if model is None or type(result) in built_as(model):
        return result, status
    # The service builds the route's model itself, so the document and the wire cannot drift apart.
    raise AnswerMismatch(f"{route.key} answered a {type(result).__name__} with {status}, where the route table "
                         f"names {model.__name__}")


def dispatch(function: str, handlers: Mapping[str, Handler]) -> Callable[[flask.Request], flask.Response]:
    """The Cloud Function `function` (its deployed name): every route of the table under /<function>."""
    framework_errors_as_json()
    routes = [route for route in ROUTES if route.function == function]
    declared = {route.key for route in routes}
    if missing := declared - set(handlers):
        raise LookupError(f"function {function!r} has no handler for {sorted(missing)}")
    if undeclared := set(handlers) - declared:
        raise LookupError(f"function {function!r} handles {sorted(undeclared)}, which shared/api/routes.py "
                          "does not declare")
    prefix = "/" + function
    any_signed_in = any(route.signed_in for route in routes)

    def serve(request: flask.Request) -> flask.Response:
        start_request(request)

        def call() -> Any:
            method = "GET" if request.method == "HEAD" else request.method
            found = find_route(method, deployed_path(prefix, request))
            params = _checked_params(found[1]) if found else None
            if found is None or params is None:
                if any_signed_in:
                    authenticate(request)  # who is not signed in learns that first, not which paths exist
                raise _nothing_here()
            route = found[0]
            user = authenticate(request) if route.signed_in else None
            if user is not None:
                bind_context(user_id=user.id)
            return answer(route, handlers[route.key](Call(request, route, params, user)))

        return guarded(request, prefix, call, methods_for)

    serve.__name__ = serve.__qualname__ = function.replace("-", "_")
    return serve
