"""Token vault: AES-256-GCM encryption of platform tokens, API keys and PKCE verifiers.

A ciphertext is `version (2 bytes, big-endian) || nonce (12 bytes) || ciphertext+tag`,
stored as bytea. The key version in front lets old rows decrypt after the active
key changes, and `rotate_all` re-encrypts them to the active key.

The associated data binds a ciphertext to its row: user, platform and purpose
(access_token, refresh_token, api_key, pkce). A ciphertext copied into another
user's row, another platform's row, or swapped between the access and refresh
columns fails to decrypt instead of handing someone else's token to a request.

Keys come from the environment:
  TOKEN_VAULT_KEYS            comma-separated `version:base64key` pairs (32-byte keys)
  TOKEN_VAULT_ACTIVE_VERSION  the version new ciphertexts use (default: the highest)
"""

from __future__ import annotations

import binascii
import os
import re
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING

from shared.config import ConfigError

if TYPE_CHECKING:
    from shared.db import Database

KEY_BYTES = 32
NONCE_BYTES = 12
VERSION_BYTES = 2
_TAG_BYTES = 16
_MAX_VERSION = 0xFFFF
_AAD_FORMAT = "shortpub:v1:{user_id}:{platform}:{purpose}"

KEYS_ENV = "TOKEN_VAULT_KEYS"
ACTIVE_ENV = "TOKEN_VAULT_ACTIVE_VERSION"
GENERATE_HINT = (
    "Generate a key with: "
    'python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())" '
    f"and set {KEYS_ENV}=1:<that key>."
)

# Every ciphertext column the vault writes: (table, ciphertext column, purposes it may hold,
# SQL for the row's `platform` in the associated data). An API-key connection (Blotato) keeps
# its key in the access-token column; a webhook secret is bound to its endpoint's id.
VAULT_COLUMNS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("social_connections", "access_token_ciphertext", ("access_token", "api_key"), "platform"),
    ("social_connections", "refresh_token_ciphertext", ("refresh_token",), "platform"),
    ("oauth_states", "code_verifier_ciphertext", ("pkce",), "platform"),
    ("webhook_endpoints", "secret_ciphertext", ("signing_secret",), "'webhook-' || id"),
)


class VaultError(Exception):
    """A ciphertext could not be decrypted or a value could not be encrypted."""


def _associated_data(user_id: str, platform: str, purpose: str) -> bytes:
    for name, value in (("user_id", user_id), ("platform", platform), ("purpose", purpose)):
        # ':' would let two different rows produce the same associated data.
        if not value or ":" in str(value):
            raise VaultError(f"The token vault needs a non-empty {name} without ':'.")
    return _AAD_FORMAT.format(user_id=user_id, platform=platform, purpose=purpose).encode()


class TokenVault:
    """Encrypts and decrypts secrets bound to (user, platform, purpose)."""

    def __init__(self, keys: Mapping[int, bytes], active_version: int) -> None:
        if not keys:
            raise ConfigError(f"{KEYS_ENV}: no encryption key is configured. {GENERATE_HINT}")
        for version, key in keys.items():
            if not 0 <= version <= _MAX_VERSION:
                raise ConfigError(f"{KEYS_ENV}: key version {version} must be between 0 and {_MAX_VERSION}.")
            if len(key) != KEY_BYTES:
                raise ConfigError(
                    f"{KEYS_ENV}: key version {version} is {len(key)} bytes; it must be exactly "
                    f"{KEY_BYTES} bytes. {GENERATE_HINT}"
                )
        if active_version not in keys:
            raise ConfigError(
                f"{ACTIVE_ENV}: version {active_version} has no key in {KEYS_ENV} "
                f"(configured versions: {', '.join(str(v) for v in sorted(keys))})."
            )
        # Imported when a vault is built, not with this module: the functions that only name the vault's
        # type (connections, webhooks) keep cryptography (~9 MB) out of their cold start.
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._ciphers = {version: AESGCM(bytes(key)) for version, key in keys.items()}
        self.active_version = active_version

    @property
    def versions(self) -> tuple[int, ...]:
        return tuple(sorted(self._ciphers))

    def encrypt(self, plaintext: str, *, user_id: str, platform: str, purpose: str) -> bytes:
        aad = _associated_data(str(user_id), platform, purpose)
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[self.active_version].encrypt(nonce, plaintext.encode("utf-8"), aad)
        return self.active_version.to_bytes(VERSION_BYTES, "big") + nonce + sealed

    def decrypt(self, ciphertext: bytes, *, user_id: str, platform: str, purpose: str) -> str:
        aad = _associated_data(str(user_id), platform, purpose)
        blob = bytes(ciphertext)
        if len(blob) < VERSION_BYTES + NONCE_BYTES + _TAG_BYTES:
            raise VaultError("The stored secret is damaged (too short) and cannot be read.")
        version = self.version_of(blob)
        cipher = self._ciphers.get(version)
        if cipher is None:
            raise VaultError(
                f"The stored secret was encrypted with key version {version}, which is no longer "
                f"configured in {KEYS_ENV}."
            )
        nonce = blob[VERSION_BYTES : VERSION_BYTES + NONCE_BYTES]
        from cryptography.exceptions import InvalidTag  # loaded with the cipher already (see __init__)

        try:
            plaintext = cipher.decrypt(nonce, blob[VERSION_BYTES + NONCE_BYTES :], aad)
        except InvalidTag:
            raise VaultError(
                "The stored secret does not belong to this account or was altered, so it cannot be read."
            ) from None
        return plaintext.decode("utf-8")

    @staticmethod
    def version_of(ciphertext: bytes) -> int:
        return int.from_bytes(bytes(ciphertext[:VERSION_BYTES]), "big")

    def needs_rotation(self, ciphertext: bytes) -> bool:
        return self.version_of(ciphertext) != self.active_version


# ----------------------------------------------------------------------------- configuration

_PAIR = re.compile(r"^\s*(\d+)\s*:\s*(\S+)\s*$")


def parse_keys(raw: str | None) -> dict[int, bytes]:
    """Parse TOKEN_VAULT_KEYS. Errors name the variable and the version, never key material."""
    if raw is None or not raw.strip():
        raise ConfigError(f"{KEYS_ENV} is not set; the token vault needs an encryption key. {GENERATE_HINT}")
    keys: dict[int, bytes] = {}
    for position, pair in enumerate(raw.split(","), start=1):
        if not pair.strip():
            continue
        match = _PAIR.match(pair)
        if match is None:
            raise ConfigError(
                f"{KEYS_ENV}: entry {position} is not in the form version:base64key "
                f"(for example 1:<44 base64 characters>). {GENERATE_HINT}"
            )
        version = int(match.group(1))
        try:
            key = binascii.a2b_base64(_strict_base64(match.group(2)))
        except (binascii.Error, ValueError):
            raise ConfigError(
                f"{KEYS_ENV}: the key for version {version} is not valid base64. {GENERATE_HINT}"
            ) from None
        if len(key) != KEY_BYTES:
            raise ConfigError(
                f"{KEYS_ENV}: the key for version {version} is {len(key)} bytes after base64 decoding; "
                f"it must be exactly {KEY_BYTES} bytes. {GENERATE_HINT}"
            )
        if version in keys:
            raise ConfigError(f"{KEYS_ENV}: key version {version} appears twice.")
        if version > _MAX_VERSION:
            raise ConfigError(f"{KEYS_ENV}: key version {version} must be between 0 and {_MAX_VERSION}.")
        keys[version] = key
    if not keys:
        raise ConfigError(f"{KEYS_ENV} is empty; the token vault needs an encryption key. {GENERATE_HINT}")
    return keys


def _strict_base64(text: str) -> bytes:
    # a2b_base64 silently skips stray characters; refuse them so a typo is caught.
    if not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text) or len(text) % 4:
        raise ValueError("not base64")
    return text.encode("ascii")


def from_env(environ: Mapping[str, str] | None = None) -> TokenVault:
    """Build a vault from TOKEN_VAULT_KEYS and TOKEN_VAULT_ACTIVE_VERSION (the application's: shared/app.py)."""
    env = os.environ if environ is None else environ
    keys = parse_keys(env.get(KEYS_ENV))
    raw_active = (env.get(ACTIVE_ENV) or "").strip()
    if raw_active:
        if not raw_active.isdigit():
            raise ConfigError(f"{ACTIVE_ENV} must be a key version number, for example 2.")
        active = int(raw_active)
    else:
        active = max(keys)
    return TokenVault(keys, active)


# ----------------------------------------------------------------------------- rotation


def _decrypt_any(vault: TokenVault, ciphertext: bytes, user_id: str, platform: str,
                 purposes: tuple[str, ...]) -> tuple[str, str]:
    """Decrypt with the first purpose that fits; returns (plaintext, purpose)."""
    last: VaultError | None = None
    for purpose in purposes:
        try:
            return vault.decrypt(ciphertext, user_id=user_id, platform=platform, purpose=purpose), purpose
        except VaultError as exc:
            last = exc
    assert last is not None
    raise last


def rotate_all(db: Database, vault: TokenVault) -> int:
    """Re-encrypt every stored ciphertext that is not on the active key version.

    Runs in one service transaction and locks the rows it rewrites, so a token
    refresh running at the same time waits instead of writing over the new value.
    Returns how many ciphertexts were re-encrypted. A ciphertext that cannot be
    decrypted stops the rotation (nothing is written) with a VaultError naming the row.
    """
    active_prefix = vault.active_version.to_bytes(VERSION_BYTES, "big")
    rotated = 0
    with db.service() as conn:
        for table, column, purposes, platform_sql in VAULT_COLUMNS:
            # Table and column names come from the constant above, never from input.
            rows = conn.execute(
                f"select id, user_id, {platform_sql} as platform, {column} as ciphertext from public.{table} "  # noqa: S608
                f"where {column} is not null and substring({column} from 1 for {VERSION_BYTES}) <> %s "
                "order by id for update",
                (active_prefix,),
            ).fetchall()
            for row in rows:
                user_id, platform = str(row["user_id"]), row["platform"]
                try:
                    plaintext, purpose = _decrypt_any(vault, bytes(row["ciphertext"]), user_id, platform, purposes)
                except VaultError as exc:
                    raise VaultError(f"Cannot rotate {table}.{column} of row {row['id']}: {exc}") from None
                fresh = vault.encrypt(plaintext, user_id=user_id, platform=platform, purpose=purpose)
                conn.execute(
                    f"update public.{table} set {column} = %s where id = %s",  # noqa: S608
                    (fresh, row["id"]),
                )
                rotated += 1
    return rotated
