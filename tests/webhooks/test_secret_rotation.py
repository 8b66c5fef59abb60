"""`shortpub rotate-keys` re-encrypts webhook signing secrets too, and they still sign."""

from __future__ import annotations

import base64
import os

import pytest

from shared.connections.vault import TokenVault, VaultError, rotate_all
from tests import test_vault
from tests.conftest import make_user

# A database of its own: rotation touches every row of every vault column.
rotation_db = test_vault.rotation_db


@pytest.fixture
def two_keys(monkeypatch, make_app):
    keys = {1: os.urandom(32), 2: os.urandom(32)}

    def use(active: int) -> TokenVault:
        monkeypatch.setenv("TOKEN_VAULT_KEYS", ",".join(f"{v}:{base64.b64encode(k).decode()}" for v, k in keys.items()
                                                        if v <= active))
        monkeypatch.setenv("TOKEN_VAULT_ACTIVE_VERSION", str(active))
        return make_app().vault

    return use


def test_rotation_reencrypts_webhook_secrets_bound_to_their_endpoint(rotation_db, two_keys) -> None:
    from shared.http import User
    from shared.webhooks import endpoints

    claims = make_user(rotation_db)
    user = User(id=claims["sub"], email=claims["email"], claims=claims)
    old = two_keys(1)
    body = endpoints.EndpointCreate(url="http://127.0.0.1:9/hook", events=["post.completed"])
    first = endpoints.create_endpoint(rotation_db, old, user, body).model_dump()
    second = endpoints.create_endpoint(rotation_db, old, user, body).model_dump()

    def stored(endpoint_id: str) -> bytes:
        with rotation_db.service() as conn:
            row = conn.execute("select secret_ciphertext from webhook_endpoints where id = %s",
                               (endpoint_id,)).fetchone()
        return bytes(row["secret_ciphertext"])

    assert TokenVault.version_of(stored(first["id"])) == 1
    new = two_keys(2)
    assert rotate_all(rotation_db, new) == 2
    assert rotate_all(rotation_db, new) == 0
    for created in (first, second):
        assert TokenVault.version_of(stored(created["id"])) == 2
        assert endpoints.decrypt_secret(new, stored(created["id"]), user_id=user.id,
                                        endpoint_id=created["id"]) == created["secret"]
    # Bound to the endpoint: one endpoint's ciphertext does not open as another's.
    with pytest.raises(VaultError):
        endpoints.decrypt_secret(new, stored(first["id"]), user_id=user.id, endpoint_id=second["id"])
