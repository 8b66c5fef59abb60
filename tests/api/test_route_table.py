"""One route table: what the functions serve is what the document says, and errors map in one table."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args, get_type_hints

import pytest
from pydantic import BaseModel

from shared.api.dispatch import AnswerMismatch, answer, built_as, dispatch
from shared.api.routes import ROUTES, ModelRef, find_route
from shared.connections.errors import (
    AccountNotEligible,
    ChooseAccount,
    ConnectionFlowError,
    ConnectionNotFound,
    ProviderNotConfigured,
    StateError,
)
from shared.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    LimitReached,
    NotEditable,
    NotFound,
    QuotaExceeded,
    Rejected,
    TooLarge,
    Unavailable,
    UpstreamRefused,
)
from shared.http import ERROR_STATUS, as_api_error, status_of
from shared.platforms.errors import PermanentError, TransientError
from shared.responses import (
    Health,
    PostView,
    PublishAccepted,
    WebhookCreated,
    WebhookEndpoint,
    WebhookTestResult,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("function", sorted({route.function for route in ROUTES}))
def test_every_function_of_the_table_serves_exactly_its_routes(function):
    """dispatch() refuses at import a missing handler or one the table does not declare; importing proves both."""
    module = importlib.import_module(f"functions.{function.replace('-', '_')}")
    assert callable(getattr(module, function.replace("-", "_")))


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.key)
def test_every_model_the_table_names_exists(route):
    """The table names its models lazily (cold start): a misspelt name must fail here, not on a request."""
    for ref in route.model_refs():
        assert issubclass(ref.load(), BaseModel), ref
        assert ref.name == ref.load().__name__, ref  # the name the document shows is the name written here


def test_a_misspelt_model_in_the_table_is_an_error_that_names_it():
    with pytest.raises(LookupError, match="shared.responses.Helth"):
        ModelRef("shared.responses", "Helth").load()
    with pytest.raises(LookupError, match="not a pydantic model"):
        ModelRef("shared.api.routes", "ROUTES").load()
    with pytest.raises(ModuleNotFoundError):
        ModelRef("shared.no_such_module", "Health").load()


def test_a_handler_the_table_does_not_know_or_a_missing_one_stops_the_function():
    with pytest.raises(LookupError, match="no handler"):
        dispatch("health", {})
    with pytest.raises(LookupError, match="does not declare"):
        dispatch("health", {"GET /health": lambda call: {}, "POST /health": lambda call: {}})


def test_an_answer_that_is_not_its_declared_model_is_a_bug_not_a_user_error():
    route, _ = find_route("GET", "/health") or (None, None)
    assert route is not None
    model, status = answer(route, Health(ok=True, database="reachable"))
    assert status == 200 and model.model_dump() == {"ok": True, "database": "reachable"}
    # A bare dict is refused even when it would fit: the service builds the model the document is made of.
    with pytest.raises(AnswerMismatch, match="answered a dict with 200, where the route table names Health"):
        answer(route, {"ok": True, "database": "reachable"})
    with pytest.raises(AnswerMismatch, match="answered a WebhookTestResult"):
        answer(route, WebhookTestResult(delivery_id="d", outcome="failed"))
    with pytest.raises(AnswerMismatch, match="does not declare"):
        answer(route, (Health(ok=True, database="reachable"), 201))


def test_a_subclass_of_the_declared_model_is_refused_too():
    """WebhookCreated carries the signing secret: it must never pass where the table names WebhookEndpoint."""
    route, _ = find_route("GET", "/webhooks/00000000-0000-0000-0000-000000000001") or (None, None)
    assert route is not None and route.response_model(200) is WebhookEndpoint
    fields = {"id": "e", "url": "https://example.com/hook", "description": None, "events": [], "status": "active",
              "disabled_reason": None, "failing_since": None, "last_success_at": None,
              "created_at": "2031-03-04T17:30:00Z", "updated_at": "2031-03-04T17:30:00Z"}
    assert answer(route, WebhookEndpoint.model_validate(fields))[1] == 200
    with pytest.raises(AnswerMismatch, match="answered a WebhookCreated"):
        answer(route, WebhookCreated.model_validate({**fields, "secret": "whsec_x"}))


def test_a_root_model_route_takes_each_member_of_its_union():
    route, _ = find_route("POST", "/publish-video") or (None, None)
    assert route is not None
    assert set(built_as(route.response_model(200))) == {PostView, PublishAccepted}  # type: ignore[arg-type]
    accepted = PublishAccepted(post_id="p", targets=[])
    assert answer(route, (accepted, 200)) == (accepted, 200)
    with pytest.raises(AnswerMismatch, match="answered a dict"):
        answer(route, ({"post_id": "p", "targets": []}, 200))


def _handlers(function: str) -> dict[str, ast.expr]:
    """The handler expression of each route key in functions/<function>.py's `dispatch(...)` call."""
    tree = ast.parse((ROOT / "functions" / f"{function.replace('-', '_')}.py").read_text())
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
             and node.func.id == "dispatch"]
    assert len(calls) == 1, function
    table = calls[0].args[1]
    assert isinstance(table, ast.Dict)
    return {ast.literal_eval(key): value for key, value in zip(table.keys, table.values, strict=True)
            if key is not None}


def _callee(function: str, handler: ast.expr) -> Callable[..., Any]:
    """The function that builds the answer: the handler itself, or what a one-line lambda calls."""
    namespace = vars(importlib.import_module(f"functions.{function.replace('-', '_')}"))
    if isinstance(handler, ast.Lambda):
        assert isinstance(handler.body, ast.Call), ast.unparse(handler)
        handler = handler.body.func
    return eval(compile(ast.Expression(handler), "<handler>", "eval"), namespace)  # noqa: S307 - our own source


def _models_in(annotation: Any) -> set[type]:
    """Every response model a return annotation names (through unions and a (model, status) tuple)."""
    if isinstance(annotation, type):
        return {annotation} if issubclass(annotation, BaseModel) else set()
    found: set[type] = set()
    for arg in get_args(annotation):
        found |= _models_in(arg)
    return found


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.key)
def test_every_route_is_answered_by_the_model_the_table_names(route):
    """The handler (or the service a one-line handler calls) is declared to return exactly the route's models.

    mypy holds each function to its return annotation, so a service that builds a dict again, or another
    model than the one the document describes, fails lint; answer() refuses it at run time as well.
    """
    callee = _callee(route.function, _handlers(route.function)[route.key])
    named = {built for status in route.responses for model in [route.response_model(status)] if model is not None
             for built in built_as(model)}
    # A handler may name its model for the type checker only (imported on first use: cold start).
    returns = get_type_hints(callee, localns={model.__name__: model for model in named})["return"]
    assert _models_in(returns) == named, f"{route.key}: {callee.__qualname__} returns {returns}"


def test_shared_never_imports_the_functions():
    offenders = []
    for path in (ROOT / "shared").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "functions"]
    assert offenders == []


@pytest.mark.parametrize(("error", "status"), [
    (InvalidInput("x"), 422), (Rejected("x"), 400), (Forbidden("x"), 403), (NotFound("x"), 404),
    (Conflict("x"), 409), (NotEditable("x"), 409), (QuotaExceeded("x"), 409), (TooLarge("x"), 413),
    (LimitReached("x"), 429), (UpstreamRefused("x"), 502), (Unavailable("x"), 503),
    # The connection flows' errors, once with their own `status` attributes, now kinds of the same table.
    (ConnectionFlowError("x"), 400), (StateError("x"), 400), (AccountNotEligible("x"), 400),
    (ChooseAccount("x"), 409), (ConnectionNotFound("x"), 404), (ProviderNotConfigured("x"), 503),
])
def test_each_kind_of_domain_error_has_one_status(error: DomainError, status: int):
    assert status_of(error) == status
    answered = as_api_error(error)
    assert answered is not None and (answered.status, answered.code, answered.message) == \
        (status, error.code, "x")


def test_every_kind_is_in_the_table_and_platform_refusals_are_502_or_503():
    import shared.errors as errors

    kinds = {value for value in vars(errors).values() if isinstance(value, type) and issubclass(value, DomainError)}
    assert all(any(k in ERROR_STATUS for k in kind.__mro__) for kind in kinds)
    down = as_api_error(TransientError("Try later.", platform="blotato", code="503"))
    refused = as_api_error(PermanentError("No.", platform="blotato", code="bad"))
    assert down is not None and (down.status, down.code) == (503, "platform_transient")
    assert refused is not None and (refused.status, refused.code, refused.detail) == \
        (502, "platform_permanent", {"platform_code": "bad"})
