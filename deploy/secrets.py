"""Which settings are secrets: they live in Secret Manager and reach functions only as `--set-secrets`.

Each function runs as the service account of its role and can read only that role's
secrets, so a compromised public function cannot read the mail password, and the
workers and the tick never see the key that verifies user sign-ins.
"""

from __future__ import annotations

# Every setting that grants access to something. Each is a Secret Manager secret of the
# same name, mounted as that environment variable (`NAME=NAME:latest`).
SECRET_SETTINGS: tuple[str, ...] = (
    "DATABASE_URL",               # carries the database password
    "SUPABASE_JWT_SECRET",
    "SUPABASE_SERVICE_ROLE_KEY",
    "TOKEN_VAULT_KEYS",
    "TIKTOK_CLIENT_SECRET",
    "INSTAGRAM_APP_SECRET",
    "FACEBOOK_APP_SECRET",
    "GOOGLE_CLIENT_SECRET",
    "BLOTATO_API_KEY",
    "SMTP_PASSWORD",
    "GEMINI_API_KEY",             # caption suggestions; skip it (DEPLOY_SKIP_SECRETS) when using Vertex AI
)

_PLATFORM_APP_SECRETS = ("TIKTOK_CLIENT_SECRET", "INSTAGRAM_APP_SECRET", "FACEBOOK_APP_SECRET",
                         "GOOGLE_CLIENT_SECRET", "BLOTATO_API_KEY")

# role -> the secrets its functions need (and its service account may read).
SECRETS_BY_ROLE: dict[str, tuple[str, ...]] = {
    # publish-video, videos, oauth, connections, health, ops, captions, webhooks, me, analytics: sign-ins,
    # storage, the OAuth code exchange (app secrets, the vault to store tokens and webhook secrets), caption
    # suggestions (Gemini). Mail is only queued here, never sent.
    "api": ("DATABASE_URL", "SUPABASE_JWT_SECRET", "SUPABASE_SERVICE_ROLE_KEY", "TOKEN_VAULT_KEYS",
            "GEMINI_API_KEY", *_PLATFORM_APP_SECRETS),
    # publish-<platform>: read the video, decrypt and refresh tokens, call the platform.
    "worker": ("DATABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "TOKEN_VAULT_KEYS", *_PLATFORM_APP_SECRETS),
    # scheduler-tick and webhook-delivery: refreshes tokens, sends mail, deletes expired videos, reads
    # analytics, signs webhook deliveries (their secrets are in the vault).
    "tick": ("DATABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "TOKEN_VAULT_KEYS", "SMTP_PASSWORD",
             *_PLATFORM_APP_SECRETS),
}

# Settings that exist only on a developer machine and are never deployed.
LOCAL_ONLY_SETTINGS: tuple[str, ...] = (
    "LOCAL_STORAGE_DIR",
    "LOCAL_STORAGE_URL",
    "LOCAL_STORAGE_PORT",
    "LOCAL_STORAGE_SIGNING_KEY",
    "CLOUD_TASKS_EMULATOR_HOST",
)


def looks_secret(name: str) -> bool:
    """A name that reads like a credential (used to catch a secret pasted into the plain config)."""
    upper = name.upper()
    return upper in SECRET_SETTINGS or any(
        part in upper for part in ("SECRET", "PASSWORD", "API_KEY", "SERVICE_ROLE", "VAULT_KEYS", "PRIVATE_KEY")
    )
