"""User A can neither see, use nor disconnect user B's connection: through the API and through RLS."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.connections import connections
from shared.connections.errors import ConnectionNotFound
from shared.connections.refresh import credentials_for
from tests.connections.conftest import call, connect, connection_row
from tests.support.parts import access


@pytest.fixture
def b_connection(db, user_b, platforms) -> str:
    return connect(db, user_b, "tiktok")


def test_a_cannot_list_or_get_bs_connection(db, user_a, user_b, b_connection):
    assert call(connections, "GET", "/", user=user_a).get_json() == {"connections": []}
    assert call(connections, "GET", f"/{b_connection}", user=user_a).status_code == 404
    assert [c["id"] for c in call(connections, "GET", "/", user=user_b).get_json()["connections"]] == [b_connection]


def test_a_cannot_disconnect_bs_connection(db, user_a, b_connection):
    assert call(connections, "DELETE", f"/{b_connection}", user=user_a).status_code == 404
    row = connection_row(db, b_connection)
    assert row["status"] == "connected" and row["access_token_ciphertext"] is not None


def test_a_cannot_use_bs_credentials(db, user_a, user_b, b_connection):
    with pytest.raises(ConnectionNotFound):
        credentials_for(db, access(), b_connection, user_id=user_a["sub"], now=datetime.now(UTC))
    credentials = credentials_for(db, access(), b_connection, user_id=user_b["sub"], now=datetime.now(UTC))
    assert credentials.access_token.startswith("sbx-tiktok-access-")


def test_rls_hides_bs_rows_and_all_ciphertexts(db, user_a, user_b, b_connection):
    with db.user(user_a) as conn:
        assert conn.execute("select id from social_connections").fetchall() == []
    with db.user(user_b) as conn:
        assert len(conn.execute("select id from social_connections").fetchall()) == 1
    import psycopg

    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.user(user_b) as conn:
        conn.execute("select access_token_ciphertext from social_connections")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.user(user_b) as conn:
        conn.execute("update social_connections set status = 'connected'")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.user(user_b) as conn:
        conn.execute("select id from oauth_states")


def test_disconnect_revokes_wipes_tokens_and_keeps_the_row(db, user_b, b_connection, platforms):
    token = credentials_for(db, access(), b_connection, now=datetime.now(UTC)).access_token
    gone = call(connections, "DELETE", f"/{b_connection}", user=user_b)
    assert gone.status_code == 200 and gone.get_json()["status"] == "disconnected"
    row = connection_row(db, b_connection)
    assert row["access_token_ciphertext"] is None and row["refresh_token_ciphertext"] is None
    # Revoked at TikTok: the old access token no longer works there.
    from sandbox.core import TokenProblem

    with pytest.raises(TokenProblem):
        platforms.sandbox.check_token("tiktok", token)
    # The row stays for history, and cannot publish any more.
    from shared.platforms.errors import AuthError

    with pytest.raises(AuthError):
        credentials_for(db, access(), b_connection, now=datetime.now(UTC))


def test_disconnect_works_even_when_the_platform_is_down(db, user_b, b_connection, platforms):
    from sandbox.core import Fault

    platforms.sandbox.add_fault(Fault(platform="tiktok", operation="revoke", kind="server_error"))
    assert call(connections, "DELETE", f"/{b_connection}", user=user_b).get_json()["status"] == "disconnected"
