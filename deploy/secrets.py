"""Which settings are secrets: they live in Secret Manager and reach functions only as `--set-secrets`."""

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
