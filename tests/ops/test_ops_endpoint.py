"""GET /ops/metrics and `shortpub ops` over real HTTP (local functions server), service role only."""

from __future__ import annotations

import uuid

import httpx
import pytest
from typer.testing import CliRunner

from shared.auth import mint_local_token
from shared.cli import app
from shared.ops.access import mint_service_token
from shared.ops.alerts import ALERTS

JWT_SECRET = "ops-tests-jwt-secret-0123456789abcdef012345"
runner = CliRunner()


@pytest.fixture(scope="module")
def empty_db(own_db):
    return own_db


@pytest.fixture
def server(monkeypatch, empty_db, db, make_app):
    from shared.local import functions_server

    monkeypatch.setenv("SUPABASE_JWT_SECRET", JWT_SECRET)
    monkeypatch.delenv("SUPABASE_SERVICE_ROLE_KEY", raising=False)
    make_app(database=empty_db)
    running = functions_server.start(0)
    monkeypatch.setenv("SHORTPUB_API_URL", running.url)
    yield running
    running.stop()
    monkeypatch.undo()


def _get(server, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{server.url}/ops/metrics", headers=headers, timeout=30)


def test_only_the_service_role_reads_the_operator_numbers(server, db):
    assert _get(server, None).status_code == 401
    user = mint_local_token(str(uuid.uuid4()), "someone@example.test", secret=JWT_SECRET)
    refused = _get(server, user)
    assert refused.status_code == 403 and "service role" in refused.json()["message"]
    assert _get(server, mint_service_token("another-secret-entirely-0123456789abcdef")).status_code == 403

    answer = _get(server, mint_service_token(JWT_SECRET))
    assert answer.status_code == 200
    body = answer.json()
    assert [a["alert"] for a in body["alerts"]] == [a.name for a in ALERTS]
    assert body["breached"] == []


def test_the_service_role_key_itself_is_accepted(server, monkeypatch):
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "sb_secret_local_test_key_value")
    assert _get(server, "sb_secret_local_test_key_value").status_code == 200
    assert _get(server, "sb_secret_local_test_key_valuX").status_code == 403


def test_shortpub_ops_shows_each_alert_and_fails_when_one_fires(server, empty_db):
    calm = runner.invoke(app, ["ops"], env={"COLUMNS": "200"})
    assert calm.exit_code == 0, calm.output
    for alert in ALERTS:
        assert alert.title in calm.output
    assert "0 of 6 alerts firing" in calm.output

    with empty_db.service() as conn:
        user = conn.execute("insert into auth.users (email) values ('big@example.test') returning id").fetchone()["id"]
        conn.execute("insert into videos (user_id, storage_path, size_bytes) values (%s, %s, 91000000000)",
                     (user, f"{user}/big.mp4"))
    firing = runner.invoke(app, ["ops"], env={"COLUMNS": "200"})
    assert firing.exit_code == 3, firing.output
    assert "91.00 GB" in firing.output and "ALERT" in firing.output
    assert "1 of 6 alerts firing" in firing.output
