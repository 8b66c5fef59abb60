"""The OpenAPI contract: checked in, complete, and true to what the real functions answer."""

from __future__ import annotations

import functools
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from shared.api.openapi import generate, render
from shared.api.routes import ROUTES
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parents[1]
JWT_SECRET = "openapi-tests-jwt-secret-0123456789abcdef"
REGENERATE = ".venv/bin/python -m shared.api.openapi > openapi.json"


@pytest.fixture(scope="module")
def functions(db):
    from shared.local import functions_server

    running = functions_server.start(0)
    yield running
    running.stop()


@pytest.fixture
def api(monkeypatch, functions, db, make_app):
    from shared.auth import mint_local_token

    monkeypatch.setenv("SUPABASE_JWT_SECRET", JWT_SECRET)
    monkeypatch.delenv("BLOTATO_API_KEY", raising=False)
    make_app()
    user = make_user(db)
    token = mint_local_token(user["sub"], user["email"], secret=JWT_SECRET)
    with httpx.Client(base_url=functions.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        client.user = user  # type: ignore[attr-defined]
        yield client
    monkeypatch.undo()


@functools.cache
def openapi_document() -> dict[str, Any]:
    """Generated once for this module (it takes about a second)."""
    return generate()


def _validate(body: object, schema_name: str) -> None:
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")  # what a service returned, as the edge writes it on the wire
    document = openapi_document()
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=str)
    assert not errors, f"{schema_name}: " + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def _schema_for(path: str, method: str, status: int) -> str:
    responses = openapi_document()["paths"][path][method.lower()]["responses"]
    answer = responses.get(str(status)) or responses[f"{str(status)[0]}XX"]
    return str(answer["content"]["application/json"]["schema"]["$ref"]).rsplit("/", 1)[1]


def test_checked_in_openapi_json_is_current():
    checked_in = json.loads((ROOT / "openapi.json").read_text())
    assert checked_in == json.loads(render(generate())), (
        f"openapi.json is out of date with the models; regenerate it with: {REGENERATE}"
    )


def test_document_shape():
    document = generate()
    assert document["openapi"].startswith("3.1")
    Draft202012Validator.check_schema({"components": document["components"]})
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            responses = operation["responses"]
            assert {"4XX", "5XX"} <= set(responses), (method, path)
            assert responses["4XX"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
            public = path.startswith(("/health", "/oauth/callback"))
            assert operation["security"] == ([] if public else [{"supabaseJwt": []}]), (method, path)
    refs = set(re.findall(r'"#/components/schemas/([A-Za-z0-9_]+)"', json.dumps(document)))
    assert refs <= set(document["components"]["schemas"])


def _concrete(path: str) -> str:
    return re.sub(r"{platform}", "tiktok", re.sub(r"{[a-z_]+_id}", str(uuid.uuid4()), path))


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_exists_on_the_functions_server(api, route):
    kwargs: dict = {"json": {}} if route.body is not None else {}
    if route.raw_body and route.body is None:
        kwargs = {"content": b"", "headers": {"Content-Type": route.raw_body[0]}}
    response = api.request(route.method, _concrete(route.path), follow_redirects=False, **kwargs)
    is_json = response.headers.get("content-type", "").startswith("application/json")
    assert response.status_code != 405, response.text
    if response.status_code == 404:
        assert is_json and response.json()["code"] != "not_found", f"no such route: {response.text}"
    if is_json:  # whatever it answered, it is what the document says it answers
        _validate(response.json(), _schema_for(route.path, route.method, response.status_code))


def _scheduled_post(db, user_id: str) -> str:
    with db.service() as conn:
        connection = conn.execute(
            "insert into social_connections (user_id, platform, platform_account_id, username, scopes) "
            "values (%s, 'tiktok', %s, 'me', '{video.publish}') returning id",
            (user_id, f"acct-{uuid.uuid4().hex[:8]}")).fetchone()
        video = conn.execute("insert into videos (user_id, storage_path, size_bytes) values (%s, %s, 1000) "
                             "returning id", (user_id, f"{user_id}/v/original.mp4")).fetchone()
        post = conn.execute("insert into posts (user_id, video_id, caption, hashtags) values (%s, %s, 'Hi', "
                            "'{spring}') returning id", (user_id, video["id"])).fetchone()
        conn.execute(
            "insert into publish_targets (user_id, post_id, connection_id, platform, scheduled_at, state, title) "
            "values (%s, %s, %s, 'tiktok', %s, 'scheduled', null)",
            (user_id, post["id"], connection["id"], datetime.now(UTC) + timedelta(days=1)))
    return str(post["id"])


def test_real_answers_validate_against_the_document(api, db):
    user_id = api.user["sub"]
    health = api.get("/health")
    assert health.status_code == 200
    _validate(health.json(), "Health")

    empty = api.get("/connections")
    assert empty.json() == {"connections": []}
    post_id = _scheduled_post(db, user_id)
    connections = api.get("/connections")
    assert len(connections.json()["connections"]) == 1
    _validate(connections.json(), "ConnectionList")
    _validate(api.get(f"/connections/{connections.json()['connections'][0]['id']}").json(), "Connection")

    posts = api.get("/publish-video/posts", params={"from": datetime.now(UTC).isoformat()})
    assert posts.status_code == 200 and len(posts.json()["items"]) == 1
    _validate(posts.json(), "PostList")
    post = api.get(f"/publish-video/posts/{post_id}")
    assert post.status_code == 200 and post.json()["targets"][0]["state"] == "scheduled"
    _validate(post.json(), "PostView")
    _validate(api.get("/videos").json(), "VideoList")

    missing = api.get(f"/publish-video/posts/{uuid.uuid4()}")
    assert missing.status_code == 404
    _validate(missing.json(), "ErrorBody")
    assert missing.json()["message"] == "We couldn't find that post."
    invalid = api.post("/publish-video", json={"targets": []})
    assert invalid.status_code == 422
    _validate(invalid.json(), "ErrorBody")


def test_a_drifted_answer_would_be_caught():
    """The response models refuse keys the document does not know, so drift fails the tests above."""
    with pytest.raises(AssertionError, match="Additional properties"):
        _validate({"ok": True, "database": "reachable", "extra": 1}, "Health")


# ------------------------------------------------------------------------------ timestamps

# A field is a timestamp by its name: created_at, decide_by, failing_since, at_utc, local_time, ...
_TIMESTAMP_NAME = re.compile(r"(_at|_by|_since|_utc|^at_local|^local_time)$")
# ISO 8601 with an explicit offset (Z or ±hh:mm): what a browser's Date and every client library read.
_ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _properties(document: dict) -> list[tuple[str, str, dict]]:
    found = []
    for model, schema in document["components"]["schemas"].items():
        for name, prop in schema.get("properties", {}).items():
            found.append((model, name, prop))
    return found


def _formats(prop: dict) -> set[str | None]:
    return {branch.get("format") for branch in prop.get("anyOf", [prop]) if branch.get("type") != "null"}


def test_every_documented_timestamp_is_a_date_time():
    document = generate()
    undocumented = [f"{model}.{name}" for model, name, prop in _properties(document)
                    if _TIMESTAMP_NAME.search(name) and model != "PublishRequest" and "date-time" not in _formats(prop)
                    and not model.endswith(("Query", "Request", "Edit", "Targets"))]
    assert undocumented == []
    assert "HTTP-date" not in json.dumps(document)


def _timestamps_in(body: object, names: set[str], path: str = "") -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key in names and not isinstance(value, (dict, list)):
                found.append((f"{path}.{key}", value))
            found += _timestamps_in(value, names, f"{path}.{key}")
    elif isinstance(body, list):
        for index, value in enumerate(body):
            found += _timestamps_in(value, names, f"{path}.{index}")
    return found


def test_real_answers_carry_iso_8601_with_offset(api, db):
    document = openapi_document()
    names = {name for _, name, prop in _properties(document) if "date-time" in _formats(prop)}
    post_id = _scheduled_post(db, api.user["sub"])
    answers = [api.get(f"/publish-video/posts/{post_id}"), api.get("/publish-video/posts"),
               api.get("/connections"), api.get("/publish-video/export")]
    seen = []
    for answer in answers:
        assert answer.status_code == 200, answer.text
        seen += _timestamps_in(answer.json(), names)
    filled = [(where, value) for where, value in seen if value is not None]
    # A post, its platform post, the connection and the export: each carries several timestamps.
    assert len(filled) >= 10, seen
    wrong = [(where, value) for where, value in filled
             if not (isinstance(value, str) and _ISO_WITH_OFFSET.match(value)
                     and datetime.fromisoformat(value).tzinfo is not None)]
    assert wrong == []
