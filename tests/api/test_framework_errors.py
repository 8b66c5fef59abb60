"""What functions-framework answers by itself (its own 404 routes) is our JSON error body too."""

from __future__ import annotations

import functions_framework
import pytest

from shared.db.local import PROJECT_ROOT


@pytest.mark.parametrize("function", ["health", "publish_video", "scheduler_tick"])
@pytest.mark.parametrize("path", ["/robots.txt", "/favicon.ico"])
def test_the_frameworks_own_routes_answer_json(function: str, path: str) -> None:
    # The app exactly as the Cloud Functions runtime builds it from the deployed source.
    app = functions_framework.create_app(target=function, source=str(PROJECT_ROOT / "functions" / f"{function}.py"))
    answer = app.test_client().get(path)
    assert answer.status_code == 404
    assert answer.is_json, answer.get_data(as_text=True)[:200]
    assert answer.get_json()["code"] == "not_found" and "request_id" in answer.get_json()
