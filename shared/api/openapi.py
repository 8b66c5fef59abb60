"""The OpenAPI 3.1 document, generated from the route table and the pydantic models.

    python -m shared.api.openapi > openapi.json
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel

from shared.api.routes import ROUTES, ExamplePlatform, Route, r
from shared.platforms.registry import registry

REF = "#/components/schemas/{model}"
SECURITY_SCHEME = "supabaseJwt"
_PATH_PARAM = re.compile(r"{([a-z_]+)}")


def oauth_platforms() -> list[str]:
    """Platforms connected by a sign-in (the others take an API key), in the registry's order."""
    return [platform.key for platform in registry() if platform.signs_in]


class _Schemas:
    """Collects every model's schema (and the models it uses) under components.schemas."""

    def __init__(self) -> None:
        self.found: dict[str, Any] = {}

    def ref(self, model: type[BaseModel], mode: str) -> dict[str, str]:
        schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        for name, definition in schema.pop("$defs", {}).items():
            self.found.setdefault(name, definition)
        name = model.__name__
        self.found.setdefault(name, schema)
        return {"$ref": REF.format(model=name)}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or has a value: `null` is not something a query string can say."""
    branches = [b for b in schema.get("anyOf", []) if b != {"type": "null"}]
    if len(branches) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
    return {**branches[0], **rest}


def _parameters(route: Route) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in _PATH_PARAM.findall(route.path):
        schema = {"type": "string", "enum": oauth_platforms()} if name == "platform" \
            else {"type": "string", "format": "uuid"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    if (query_model := route.query_model()) is not None:
        query = query_model.model_json_schema(by_alias=True, ref_template=REF)
        for name, schema in query["properties"].items():
            schema = _without_null(schema)
            params.append({"name": name, "in": "query", "required": name in query.get("required", []),
                           "schema": schema})
    for name, description in route.headers.items():
        params.append({"name": name, "in": "header", "required": False, "description": description,
                       "schema": {"type": "string"}})
    return params


def _operation(route: Route, schemas: _Schemas) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": route.operation_id, "summary": route.summary, "tags": [route.tag]}
    if route.description:
        operation["description"] = route.description
    if params := _parameters(route):
        operation["parameters"] = params
    content: dict[str, Any] = {}
    if (body := route.body_model()) is not None:
        content["application/json"] = {"schema": schemas.ref(body, "validation")}
    for content_type in route.raw_body:
        content[content_type] = {"schema": {"type": "string", "contentMediaType": content_type}}
    if content:
        operation["requestBody"] = {"required": route.body is None, "content": content}
    responses: dict[str, Any] = {}
    for status in sorted(route.responses):
        model = route.response_model(status)
        answer: dict[str, Any] = {"description": "Redirect" if model is None else model.__doc__ or "OK"}
        if model is not None:
            answer["description"] = (model.__doc__ or model.__name__).strip().splitlines()[0]
            answer["content"] = {"application/json": {"schema": schemas.ref(model, "serialization")}}
            if route.links and 200 <= status < 300:
                answer["links"] = _with_example_platform(route.links)
            for content_type in route.text_answers:
                answer["content"][content_type] = {"schema": {"type": "string"}}
        responses[str(status)] = answer
    error = {"content": {"application/json": {"schema": schemas.ref(r.ErrorBody.load(), "serialization")}}}
    responses["4XX"] = {"description": "The request can't be done as asked; `message` says why, plainly", **error}
    responses["5XX"] = {"description": "A problem on our side or a platform's; try again later", **error}
    operation["responses"] = responses
    operation["security"] = [{SECURITY_SCHEME: []}] if route.signed_in else []
    return operation


def generate() -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "shortpub API",
            "version": "1.0.0",
            "description": (
                "Publish vertical videos to TikTok, Instagram Reels, YouTube Shorts and Facebook Reels, now or "
                "scheduled. Every error has the same body (ErrorBody); its `message` is written for the user."
            ),
        },
        "servers": [
            {"url": "http://127.0.0.1:8080", "description": "Local stack (make run)"},
            {"url": "https://{region}-{project}.cloudfunctions.net", "description": "Google Cloud Functions",
             "variables": {"region": {"default": "us-central1"}, "project": {"default": "my-project"}}},
        ],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.found.items())),
            "securitySchemes": {
                SECURITY_SCHEME: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                  "description": "The signed-in user's Supabase access token"},
            },
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _with_example_platform(value: Any) -> Any:
    """`value` with the route table's `EXAMPLE_PLATFORM` replaced by the platform it names now."""
    if isinstance(value, ExamplePlatform):
        return value.key()
    if isinstance(value, dict):
        return {key: _with_example_platform(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_example_platform(item) for item in value]
    return value


if __name__ == "__main__":
    print(render(generate()), end="")

