"""Connections tests: the sandbox's OAuth endpoints over real HTTP, real PostgreSQL, a real vault key."""

from __future__ import annotations

import base64
import os
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest

from shared.app import application
from tests.support.apps import APP_ENV
from tests.support.parts import access, base_url
from tests.test_logging import captured  # noqa: F401 - the log-capturing fixture, for tests that read logs

BASE_ENV = {
    "TIKTOK_WWW_BASE": "/tiktok-www", "TIKTOK_API_BASE": "/tiktok",
    "INSTAGRAM_WWW_BASE": "/instagram-www", "INSTAGRAM_API_BASE": "/instagram-api",
    "INSTAGRAM_GRAPH_BASE": "/instagram-graph",
    "FACEBOOK_WWW_BASE": "/facebook-www", "FACEBOOK_GRAPH_BASE": "/facebook-graph",
    "GOOGLE_AUTH_BASE": "/google-accounts", "GOOGLE_OAUTH_BASE": "/google-oauth2", "YOUTUBE_API_BASE": "/googleapis",
    "BLOTATO_API_BASE": "/blotato",
}
JWT_SECRET = "connections-tests-jwt-secret-0123456789abcdef"


# One key for the whole session: rows other tests left behind stay readable.
SESSION_VAULT_KEYS = os.environ.get("TOKEN_VAULT_KEYS") or "1:" + base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(autouse=True)
def connections_env(monkeypatch, make_app):
    monkeypatch.setenv("TOKEN_VAULT_KEYS", SESSION_VAULT_KEYS)
    for name, value in APP_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", JWT_SECRET)
    monkeypatch.delenv("BLOTATO_API_KEY", raising=False)
    make_app()


@pytest.fixture
def platforms(sandbox, monkeypatch):
    """Point every provider at the running sandbox."""
    for name, prefix in BASE_ENV.items():
        monkeypatch.setenv(name, sandbox.url + prefix)
    return sandbox


def bearer(user: dict[str, str]) -> dict[str, str]:
    now = int(time.time())
    token = jwt.encode({**user, "iat": now, "exp": now + 600}, JWT_SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def follow_authorize(url: str, **extra: str) -> dict[str, str]:
    """Do what the browser does at the platform: open the URL, get sent back with code and state."""
    if extra:
        url += "&" + "&".join(f"{k}={v}" for k, v in extra.items())
    response = httpx.get(url, follow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(f"{application().settings.functions_base_url}/oauth/callback/")
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def new_id() -> str:
    return str(uuid.uuid4())


def call(function, method: str, path: str, *, user: dict[str, str] | None = None, json=None,
         query: dict[str, str] | None = None):
    """Call a Cloud Function entry point the way functions-framework does."""
    import flask

    app = flask.Flask("functions-under-test")
    headers = bearer(user) if user else {}
    with app.test_request_context(path, method=method, headers=headers, json=json, query_string=query):
        return function(flask.request)


def connect_via_functions(user: dict[str, str], platform: str, **authorize_extra: str):
    """start -> the platform's authorize page -> callback; returns the callback's redirect response."""
    from functions.oauth import oauth

    started = call(oauth, "POST", f"/start/{platform}", user=user, json={})
    assert started.status_code == 200, started.get_json()
    params = follow_authorize(started.get_json()["authorization_url"], **authorize_extra)
    return call(oauth, "GET", f"/callback/{platform}", query=params)


def redirect_query(response) -> dict[str, str]:
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(application().settings.frontend_url)
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def connect(db, user: dict[str, str], platform: str, **authorize_extra: str) -> str:
    """Connect an account for `user` through the real flow; returns the connection id."""
    from shared.connections.flow import complete_authorization, start_authorization

    now = datetime.now(UTC)
    params = follow_authorize(start_authorization(db, access(), user["sub"], platform, base_url=base_url(), now=now),
                              **authorize_extra)
    return complete_authorization(db, access(), platform, code=params["code"], state=params["state"],
                                  base_url=base_url(), now=now).connection_ids[0]


def connection_row(db, connection_id: str) -> dict:
    with db.service() as conn:
        return dict(conn.execute("select * from social_connections where id = %s", (connection_id,)).fetchone())
