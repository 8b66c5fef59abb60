"""Core settings, read from the environment and validated at start.

Each area of the library (storage, platforms, mail, ...) keeps its own settings class
next to its code; this module holds what everything shares. A missing or malformed
setting raises `ConfigError` naming the variable, so start-up fails loudly. Settings are
read when the application is built (shared/app.py), never at import time.
"""

from __future__ import annotations

import os
from typing import Literal, TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(RuntimeError):
    """A required setting is missing or invalid."""


class CoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    environment: Literal["local", "test", "production"] = "local"
    # Unset means: start the embedded PostgreSQL in .local/ (local and test only).
    database_url: str | None = None
    db_pool_min: int = Field(default=1, ge=0)
    db_pool_max: int = Field(default=10, ge=1)
    # Supabase Auth: HS256 secret and/or the project's JWKS for asymmetric keys.
    supabase_url: str | None = None
    supabase_jwt_secret: str | None = None
    supabase_jwks_url: str | None = None
    supabase_jwt_audience: str = "authenticated"
    supabase_jwt_issuer: str | None = None
    # Where the frontend lives (OAuth callbacks redirect back here).
    frontend_url: str = "http://127.0.0.1:3000"
    # Browser origins allowed to call the API (CORS), comma-separated. Empty: FRONTEND_URL plus, when
    # local, the usual dev servers (Vite on 5173, Create React App / Next.js on 3000).
    frontend_origins: str = ""
    # Public base URL of the functions (OAuth redirect URIs, task targets).
    functions_base_url: str = "http://127.0.0.1:8080"
    log_level: str = "INFO"

    @property
    def is_local(self) -> bool:
        return self.environment in ("local", "test")

    @property
    def allowed_origins(self) -> frozenset[str]:
        listed = {o.strip().rstrip("/") for o in self.frontend_origins.split(",") if o.strip()}
        if not listed:
            listed = {self.frontend_url.rstrip("/")}
            if self.is_local:
                listed |= {f"http://{host}:{port}" for host in ("localhost", "127.0.0.1") for port in (5173, 3000)}
        return frozenset(listed)


S = TypeVar("S", bound=BaseSettings)


def load(settings_cls: type[S]) -> S:
    """Instantiate a settings class, turning validation errors into a plain message."""
    try:
        return settings_cls()
    except ValidationError as exc:
        problems = []
        prefix = str(settings_cls.model_config.get("env_prefix") or "")
        for err in exc.errors():
            name = (prefix + "_".join(str(p) for p in err["loc"])).upper()
            problems.append(f"{name}: {err['msg']}")
        raise ConfigError("Invalid configuration: " + "; ".join(problems)) from None



def variables_read(settings_cls: type[BaseSettings]) -> tuple[str, ...]:
    """The environment variables a settings class reads (its prefix + field name, or the field's alias)."""
    prefix = str(settings_cls.model_config.get("env_prefix") or "")
    names = []
    for name, info in settings_cls.model_fields.items():
        alias = info.validation_alias
        names.append(alias if isinstance(alias, str) else f"{prefix}{name}")
    return tuple(names)


def environment_of(settings_cls: type[BaseSettings]) -> tuple[str | None, ...]:
    """The current values of the variables `settings_cls` reads, looked up as it does (case-insensitively).

    Cheap (a scan of the environment, tens of microseconds, against ~1.5 ms for building the
    settings), so a value derived from settings can be remembered per environment: see
    `shared.platforms.base.SettingsDerived`.
    """
    current = {key.lower(): value for key, value in os.environ.items()}
    return tuple(current.get(name.lower()) for name in variables_read(settings_cls))
