"""POST /captions over real HTTP: the functions server, real JWTs, PostgreSQL with RLS, the sandbox's Gemini."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import make_user

JWT_SECRET = "captions-tests-jwt-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def functions(db):
    from shared.local import functions_server

    running = functions_server.start(0)
    yield running
    running.stop()


class Api:
    def __init__(self, base_url: str, db: Any) -> None:
        self.base_url = base_url
        self.db = db

    def headers(self, user: dict[str, str]) -> dict[str, str]:
        from shared.auth import mint_local_token

        return {"Authorization": "Bearer " + mint_local_token(user["sub"], user["email"], secret=JWT_SECRET)}

    def captions(self, user: dict[str, str], body: dict[str, Any], timeout: float = 30) -> httpx.Response:
        return httpx.post(f"{self.base_url}/captions", json=body, headers=self.headers(user), timeout=timeout)

    def video(self, user: dict[str, str], description: str | None = "Our baristas pour latte art with oat milk "
              "every morning in our cozy downtown coffee shop.", **context: str | None) -> str:
        """A video row of the user's with this context (the file itself plays no part in captions)."""
        video_id = str(uuid.uuid4())
        with self.db.service() as conn:
            conn.execute(
                "insert into videos (id, user_id, storage_path, original_filename, size_bytes, description, "
                "generation_prompt, brand, language) values (%s, %s, %s, %s, 1000, %s, %s, %s, %s)",
                (video_id, user["sub"], f"{user['sub']}/{video_id}/original.mp4",
                 context.get("filename", "clip.mp4"), description, context.get("prompt"), context.get("brand"),
                 context.get("language")))
        return video_id


@pytest.fixture
def api(functions, db, monkeypatch, make_app):
    monkeypatch.setenv("SUPABASE_JWT_SECRET", JWT_SECRET)
    for name in ("GEMINI_API_KEY", "GEMINI_USE_VERTEX", "GEMINI_BASE_URL", "CAPTIONS_ENGINE",
                 "CAPTIONS_DAILY_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    make_app()
    yield Api(functions.url, db)
    monkeypatch.undo()


@pytest.fixture
def gemini(api, sandbox, monkeypatch, make_app):
    """Gemini configured against the sandbox's stand-in: a real API key it minted, fast retries."""
    key = sandbox.sandbox.mint_token("gemini", "shortpub-test", ttl=3600).value
    monkeypatch.setenv("GEMINI_API_KEY", key)
    monkeypatch.setenv("GEMINI_BASE_URL", f"{sandbox.url}/gemini")
    monkeypatch.setenv("GEMINI_MODEL", "gemini-2.5-flash")
    monkeypatch.setenv("GEMINI_RETRY_DELAY_SECONDS", "0.01")
    monkeypatch.setenv("GEMINI_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("GEMINI_MAX_ATTEMPTS", "3")
    make_app()
    return sandbox


@pytest.fixture
def user(db):
    return make_user(db)


def fault(sandbox: Any, kind: str, times: int = 1, **extra: Any) -> None:
    httpx.post(f"{sandbox.url}/_sandbox/faults",
               json={"platform": "gemini", "operation": "generate", "kind": kind, "times": times, **extra},
               timeout=10).raise_for_status()


def gemini_requests(sandbox: Any) -> list[dict[str, Any]]:
    with sandbox.sandbox.lock:
        return list(sandbox.sandbox.store("gemini").get("requests", []))
