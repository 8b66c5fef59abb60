"""What a function imports at cold start (issue 18 §4): only what its own routes use.

A behaviour test, not a timed one: each function module is imported in a fresh
interpreter and its `sys.modules` is checked (the times are in BENCHMARKS.md,
`.venv/bin/python -m bench cold_start`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(path.stem for path in (ROOT / "functions").glob("*.py") if path.stem != "__init__")

# Loaded when a request needs them (a video probed or converted, a poster made, the local caption writer,
# Gemini, a task enqueued in the cloud), never by importing a function.
NEVER_AT_IMPORT = ("av", "PIL", "numpy", "yake", "google.genai", "google.cloud.tasks_v2")

# The publish request models build one model per registered platform: only the functions whose routes
# (or services) take a publish request load them.
WITHOUT_PUBLISH_MODELS = ("connections", "health", "me", "oauth", "platforms", "publish_worker",
                          "scheduler_tick", "videos", "webhook_delivery", "webhooks")


def loaded_by(function: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"import json, sys, functions.{function}; print(json.dumps(sorted(sys.modules)))"],
        cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_imports_media_caption_or_cloud_libraries(function):
    loaded = loaded_by(function)
    assert f"functions.{function}" in loaded
    assert sorted(loaded & set(NEVER_AT_IMPORT)) == []
    if function in WITHOUT_PUBLISH_MODELS:
        assert "shared.publishing.requests" not in loaded


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
