"""Token vault: AES-256-GCM round trip, tamper and row-swap refusal, key rotation, config errors."""

from __future__ import annotations

import base64
import os
import uuid

import pytest

from shared.config import ConfigError
from shared.connections.vault import TokenVault, VaultError, from_env, parse_keys, rotate_all
from shared.db import Database, migrate
from shared.db import local as localdb
from tests.conftest import make_user

SECRET = "tiktok-access-token-value-1234567890"


def new_key() -> bytes:
    return os.urandom(32)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


@pytest.fixture
def keys() -> dict[int, bytes]:
    return {1: new_key(), 2: new_key()}


@pytest.fixture
def scope() -> dict[str, str]:
    return {"user_id": str(uuid.uuid4()), "platform": "tiktok", "purpose": "access_token"}


def test_round_trip_and_format(keys, scope):
    vault = TokenVault(keys, active_version=2)
    sealed = vault.encrypt(SECRET, **scope)
    assert isinstance(sealed, bytes)
    assert sealed[:2] == (2).to_bytes(2, "big")
    # version + nonce + ciphertext of the same length as the plaintext + 16-byte tag
    assert len(sealed) == 2 + 12 + len(SECRET.encode()) + 16
    assert SECRET.encode() not in sealed
    assert vault.decrypt(sealed, **scope) == SECRET
    # A fresh nonce each time: the same secret never encrypts to the same bytes.
    assert vault.encrypt(SECRET, **scope) != sealed
    assert vault.decrypt(vault.encrypt("", **scope), **scope) == ""
    assert vault.decrypt(vault.encrypt("ümlaut ✓", **scope), **scope) == "ümlaut ✓"


def test_every_single_bit_flip_is_refused(keys, scope):
    vault = TokenVault(keys, active_version=1)
    sealed = vault.encrypt(SECRET, **scope)
    for position in range(len(sealed) * 8):
        tampered = bytearray(sealed)
        tampered[position // 8] ^= 1 << (position % 8)
        with pytest.raises(VaultError) as caught:
            vault.decrypt(bytes(tampered), **scope)
        assert SECRET not in str(caught.value)


def test_truncated_ciphertext_is_refused(keys, scope):
    vault = TokenVault(keys, active_version=1)
    sealed = vault.encrypt(SECRET, **scope)
    for length in (0, 2, 14, 29, len(sealed) - 1):
        with pytest.raises(VaultError):
            vault.decrypt(sealed[:length], **scope)


@pytest.mark.parametrize(
    "swap",
    [
        {"user_id": str(uuid.uuid4())},
        {"platform": "youtube"},
        {"purpose": "refresh_token"},
        {"purpose": "api_key"},
        {"purpose": "pkce"},
    ],
    ids=["other-user", "other-platform", "access-to-refresh", "access-to-api-key", "access-to-pkce"],
)
def test_ciphertext_moved_to_another_row_is_refused(keys, scope, swap):
    vault = TokenVault(keys, active_version=1)
    sealed = vault.encrypt(SECRET, **scope)
    with pytest.raises(VaultError) as caught:
        vault.decrypt(sealed, **{**scope, **swap})
    assert SECRET not in str(caught.value)
    assert "does not belong" in str(caught.value)


def test_separator_in_scope_cannot_forge_another_scope(keys):
    vault = TokenVault(keys, active_version=1)
    # Without the check, ("a:b", "c") and ("a", "b:c") would share associated data.
    with pytest.raises(VaultError):
        vault.encrypt(SECRET, user_id="u1", platform="tiktok:access_token", purpose="x")
    with pytest.raises(VaultError):
        vault.encrypt(SECRET, user_id="", platform="tiktok", purpose="access_token")


def test_old_version_still_decrypts_after_active_changes(keys, scope):
    old = TokenVault({1: keys[1]}, active_version=1)
    sealed = old.encrypt(SECRET, **scope)
    rotated = TokenVault(keys, active_version=2)
    assert rotated.needs_rotation(sealed)
    assert not old.needs_rotation(sealed)
    assert rotated.decrypt(sealed, **scope) == SECRET
    assert not rotated.needs_rotation(rotated.encrypt(SECRET, **scope))
    # Once the old key is removed, its ciphertexts fail with a plain message.
    with pytest.raises(VaultError, match="key version 1"):
        TokenVault({2: keys[2]}, active_version=2).decrypt(sealed, **scope)


def test_a_different_key_with_the_same_version_is_refused(keys, scope):
    sealed = TokenVault(keys, active_version=1).encrypt(SECRET, **scope)
    with pytest.raises(VaultError):
        TokenVault({1: new_key()}, active_version=1).decrypt(sealed, **scope)


# ----------------------------------------------------------------------------- configuration


def test_from_env_defaults_to_highest_version(keys):
    env = {"TOKEN_VAULT_KEYS": f"1:{b64(keys[1])}, 2:{b64(keys[2])}"}
    assert from_env(env).active_version == 2
    assert from_env({**env, "TOKEN_VAULT_ACTIVE_VERSION": "1"}).active_version == 1
    assert from_env(env).versions == (1, 2)


def test_process_vault_is_cached_from_environment(monkeypatch, keys, scope, make_app):
    monkeypatch.setenv("TOKEN_VAULT_KEYS", f"7:{b64(keys[1])}")
    monkeypatch.delenv("TOKEN_VAULT_ACTIVE_VERSION", raising=False)
    app = make_app()
    first = app.vault
    assert first is app.vault
    assert first.active_version == 7
    assert TokenVault({7: keys[1]}, 7).decrypt(first.encrypt(SECRET, **scope), **scope) == SECRET


def assert_clear_config_error(env: dict[str, str], *expected: str, secret: bytes | None = None) -> None:
    with pytest.raises(ConfigError) as caught:
        from_env(env)
    message = str(caught.value)
    for text in expected:
        assert text in message
    if secret is not None:
        assert b64(secret) not in message
        assert b64(secret)[:12] not in message


def test_missing_keys_name_the_variable_and_how_to_generate():
    assert_clear_config_error({}, "TOKEN_VAULT_KEYS", "os.urandom(32)")
    assert_clear_config_error({"TOKEN_VAULT_KEYS": "  "}, "TOKEN_VAULT_KEYS", "os.urandom(32)")


def test_bad_base64_is_a_clear_error():
    bad = "not*base64*at*all*" + "A" * 26
    assert_clear_config_error({"TOKEN_VAULT_KEYS": f"1:{bad}"}, "TOKEN_VAULT_KEYS", "not valid base64", "version 1")
    with pytest.raises(ConfigError) as caught:
        parse_keys(f"1:{bad}")
    assert bad not in str(caught.value)


def test_sixteen_byte_key_is_refused_without_printing_it():
    short = os.urandom(16)
    assert_clear_config_error(
        {"TOKEN_VAULT_KEYS": f"3:{b64(short)}"},
        "TOKEN_VAULT_KEYS", "16 bytes", "exactly 32 bytes", "os.urandom(32)",
        secret=short,
    )


def test_malformed_pairs_and_versions_are_refused(keys):
    good = b64(keys[1])
    assert_clear_config_error({"TOKEN_VAULT_KEYS": good}, "version:base64key", secret=keys[1])
    assert_clear_config_error({"TOKEN_VAULT_KEYS": f"1:{good},1:{good}"}, "appears twice")
    assert_clear_config_error({"TOKEN_VAULT_KEYS": f"70000:{good}"}, "between 0 and 65535")
    assert_clear_config_error(
        {"TOKEN_VAULT_KEYS": f"1:{good}", "TOKEN_VAULT_ACTIVE_VERSION": "2"},
        "TOKEN_VAULT_ACTIVE_VERSION", "version 2",
    )
    assert_clear_config_error(
        {"TOKEN_VAULT_KEYS": f"1:{good}", "TOKEN_VAULT_ACTIVE_VERSION": "latest"}, "TOKEN_VAULT_ACTIVE_VERSION"
    )
    with pytest.raises(ConfigError, match="32 bytes"):
        TokenVault({1: b"short"}, active_version=1)


# ----------------------------------------------------------------------------- rotation in the database


@pytest.fixture
def rotation_db():
    """A database of its own: rotate_all touches every row, and other tests' rows
    (encrypted with their own keys) must neither break it nor be touched by it."""
    admin = localdb.admin_url()
    name = f"shortpub_vault_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = localdb.create_database(admin, name)
    database = Database(url, min_size=1, max_size=2)
    try:
        migrate.apply(url, local=True)
        yield database
    finally:
        database.close()
        localdb.drop_database(admin, name)


def seed_connection(db, vault: TokenVault, user_id: str, platform: str, access: str, refresh: str | None,
                    access_purpose: str = "access_token") -> str:
    with db.service() as conn:
        row = conn.execute(
            "insert into social_connections (user_id, platform, platform_account_id, "
            "access_token_ciphertext, refresh_token_ciphertext) values (%s, %s, %s, %s, %s) returning id",
            (
                user_id, platform, f"acct-{uuid.uuid4().hex[:8]}",
                vault.encrypt(access, user_id=user_id, platform=platform, purpose=access_purpose),
                None if refresh is None
                else vault.encrypt(refresh, user_id=user_id, platform=platform, purpose="refresh_token"),
            ),
        ).fetchone()
    return str(row["id"])


def seed_oauth_state(db, vault: TokenVault, user_id: str, verifier: str) -> str:
    with db.service() as conn:
        row = conn.execute(
            "insert into oauth_states (user_id, platform, state_hash, code_verifier_ciphertext, expires_at) "
            "values (%s, 'youtube', %s, %s, now() + interval '10 minutes') returning id",
            (user_id, uuid.uuid4().hex,
             vault.encrypt(verifier, user_id=user_id, platform="youtube", purpose="pkce")),
        ).fetchone()
    return str(row["id"])


def our_ciphertexts(db, user_ids: list[str]) -> list[tuple[str, str, bytes]]:
    with db.service() as conn:
        rows = conn.execute(
            "select 'access' as col, id::text, platform, user_id::text, access_token_ciphertext as ct "
            "from social_connections where user_id = any(%s::uuid[]) "
            "union all select 'refresh', id::text, platform, user_id::text, refresh_token_ciphertext "
            "from social_connections where user_id = any(%s::uuid[]) and refresh_token_ciphertext is not null "
            "union all select 'pkce', id::text, platform, user_id::text, code_verifier_ciphertext "
            "from oauth_states where user_id = any(%s::uuid[])",
            (user_ids, user_ids, user_ids),
        ).fetchall()
    return [(r["col"], r["id"], bytes(r["ct"])) for r in rows]


def test_rotate_all_reencrypts_database_rows_to_the_active_key(rotation_db, keys):
    db = rotation_db
    user_a = make_user(db)["sub"]
    user_b = make_user(db)["sub"]
    old = TokenVault({1: keys[1]}, active_version=1)
    tiktok_a = seed_connection(db, old, user_a, "tiktok", "tt-access-a", "tt-refresh-a")
    youtube_b = seed_connection(db, old, user_b, "youtube", "yt-access-b", "yt-refresh-b")
    blotato_a = seed_connection(db, old, user_a, "blotato", "blotato-key-a", None, access_purpose="api_key")
    state_b = seed_oauth_state(db, old, user_b, "pkce-verifier-b")

    new = TokenVault(keys, active_version=2)
    already_new = seed_connection(db, new, user_b, "instagram", "ig-access-b", None)
    before = {(col, row_id): ct for col, row_id, ct in our_ciphertexts(db, [user_a, user_b])}
    untouched = before.pop(("access", already_new))
    assert len(before) == 6 and all(new.needs_rotation(ct) for ct in before.values())

    assert rotate_all(db, new) == 6
    after = {(col, row_id): ct for col, row_id, ct in our_ciphertexts(db, [user_a, user_b])}
    # A ciphertext already on the active key is left exactly as it was.
    assert after.pop(("access", already_new)) == untouched
    assert after.keys() == before.keys()
    assert not any(new.needs_rotation(ct) for ct in after.values())
    assert all(after[k] != before[k] for k in before)
    # Running again finds nothing left to do.
    assert rotate_all(db, new) == 0

    # The old key can now be removed: every row still decrypts with the new key alone.
    only_new = TokenVault({2: keys[2]}, active_version=2)
    with db.service() as conn:
        conns = {str(r["id"]): r for r in conn.execute(
            "select id, user_id::text, platform, access_token_ciphertext, refresh_token_ciphertext "
            "from social_connections where id = any(%s::uuid[])", ([tiktok_a, youtube_b, blotato_a],))}
        state = conn.execute("select code_verifier_ciphertext from oauth_states where id = %s",
                             (state_b,)).fetchone()

    def read(row_id: str, column: str, purpose: str) -> str:
        row = conns[row_id]
        return only_new.decrypt(bytes(row[column]), user_id=row["user_id"], platform=row["platform"],
                                purpose=purpose)

    assert read(tiktok_a, "access_token_ciphertext", "access_token") == "tt-access-a"
    assert read(tiktok_a, "refresh_token_ciphertext", "refresh_token") == "tt-refresh-a"
    assert read(youtube_b, "access_token_ciphertext", "access_token") == "yt-access-b"
    assert read(youtube_b, "refresh_token_ciphertext", "refresh_token") == "yt-refresh-b"
    assert read(blotato_a, "access_token_ciphertext", "api_key") == "blotato-key-a"
    assert conns[blotato_a]["refresh_token_ciphertext"] is None
    assert only_new.decrypt(bytes(state["code_verifier_ciphertext"]), user_id=user_b, platform="youtube",
                            purpose="pkce") == "pkce-verifier-b"


def test_rotate_all_writes_nothing_when_a_row_cannot_be_read(rotation_db, keys):
    db = rotation_db
    user = make_user(db)["sub"]
    old = TokenVault({1: keys[1]}, active_version=1)
    good = seed_connection(db, old, user, "instagram", "ig-access", None)
    # A ciphertext copied from another user's row: its associated data does not match.
    other = make_user(db)["sub"]
    stolen = old.encrypt("stolen", user_id=other, platform="instagram", purpose="access_token")
    bad = seed_connection(db, old, user, "facebook", "fb-access", None)
    with db.service() as conn:
        conn.execute("update social_connections set access_token_ciphertext = %s where id = %s", (stolen, bad))
        before = conn.execute("select access_token_ciphertext from social_connections where id = %s",
                              (good,)).fetchone()["access_token_ciphertext"]

    with pytest.raises(VaultError, match=f"row {bad}") as caught:
        rotate_all(db, TokenVault(keys, active_version=2))
    assert "stolen" not in str(caught.value)
    with db.service() as conn:
        after = conn.execute("select access_token_ciphertext from social_connections where id = %s",
                             (good,)).fetchone()["access_token_ciphertext"]
    assert bytes(after) == bytes(before)
