"""What a function imports at cold start (issue 18 §4): only what its own routes use.

A behaviour test, not a timed one: each function module is imported in a fresh
interpreter and its `sys.modules` is checked (the times are in BENCHMARKS.md,
`.venv/bin/python -m bench cold_start`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(path.stem for path in (ROOT / "functions").glob("*.py") if path.stem != "__init__")

# Loaded when a request needs them (a video probed or converted, a poster made, the local caption writer,
# Gemini, a task enqueued in the cloud), never by importing a function.
NEVER_AT_IMPORT = ("av", "PIL", "numpy", "yake", "google.genai", "google.cloud.tasks_v2")

# Loaded by the first request of a route that needs them (functions/*.py name their services with
# shared/api/lazy.py): the database driver, the HTTP client, the platform packages, the request and
# response models; the settings classes (pydantic-settings), read when a request first asks the application.
FIRST_REQUEST_ONLY = ("psycopg", "httpx", "shared.platforms.registry", "shared.publishing.requests",
                      "shared.responses", "shared.api.requests", "shared.connections.store", "pydantic_settings")


def loaded_by(function: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"import json, sys, functions.{function}; print(json.dumps(sorted(sys.modules)))"],
        cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_imports_media_caption_cloud_database_or_platform_libraries(function):
    loaded = loaded_by(function)
    assert f"functions.{function}" in loaded
    assert sorted(loaded & set(NEVER_AT_IMPORT)) == []
    assert sorted(loaded & set(FIRST_REQUEST_ONLY)) == []


def test_health_imports_no_model_and_no_platform():
    """The route table names its models lazily: /health does not load every route's models."""
    loaded = loaded_by("health")
    assert sorted(loaded & {"shared.responses", "shared.publishing.requests", "shared.analytics.experiments",
                            "shared.webhooks.endpoints", "shared.platforms.registry", "shared.api.openapi"}) == []


def test_a_model_is_imported_when_its_route_first_answers():
    """The other side of lazy: /health's response model loads when the route is first answered, and is checked."""
    program = (
        "import sys\n"
        "from shared.api.dispatch import answer\n"
        "from shared.api.routes import find_route\n"
        "route, _ = find_route('GET', '/health')\n"
        "assert 'shared.responses' not in sys.modules\n"
        "Health = route.response_model(200)\n"
        "model, status = answer(route, Health(ok=True, database='reachable'))\n"
        "print(type(model).__module__, type(model).__name__, status)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["shared.responses", "Health", "200"]


def test_the_operator_function_loads_no_jwt_library_at_import():
    """Called with the service-role key itself it never needs PyJWT (and cryptography, ~9 MB of RSS)."""
    assert sorted(loaded_by("ops") & {"jwt", "cryptography"}) == []


# One signed-in request to a real route of functions/publish_video.py on the test database: a post
# the user does not have. Prints what the request loaded.
_FIRST_REQUEST = """
import json, os, sys, uuid
import flask
import functions.publish_video as function
from shared.auth import mint_local_token
at_import = set(sys.modules)
token = mint_local_token(str(uuid.uuid4()), "creator@example.com", secret=os.environ["SUPABASE_JWT_SECRET"])
with flask.Flask("first-request").test_request_context(
        f"/publish-video/posts/{uuid.uuid4()}", headers={"Authorization": f"Bearer {token}"}):
    response = function.publish_video(flask.request)
print(json.dumps({"status": response.status_code, "at_import": sorted(at_import),
                  "after": sorted(set(sys.modules))}))
"""


def test_a_routes_service_is_imported_when_the_route_first_answers(database_url):
    """The other side of deferring: the handler's service (and the database driver) load with its first request."""
    env = {**os.environ, "ENVIRONMENT": "test", "DATABASE_URL": database_url,
           "SUPABASE_JWT_SECRET": "cold-start-test-secret-0123456789abcdef"}
    done = subprocess.run([sys.executable, "-c", _FIRST_REQUEST], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["status"] == 404  # answered by the service, through the user's own transaction
    service = ("shared.publishing.service", "psycopg", "shared.responses")
    assert [name for name in service if name in found["at_import"]] == []
    assert [name for name in service if name in found["after"]] == list(service)
    # Only that route's service: the other routes' modules are still not loaded.
    assert [name for name in ("shared.accounts.export", "shared.publishing.bulk", "shared.analytics.report")
            if name in found["after"]] == []
