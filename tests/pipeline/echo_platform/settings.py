"""Echo's settings: where its API lives and our app's credentials."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class EchoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECHO_", env_file=None, extra="ignore", case_sensitive=False)

    api_base: str = "http://echo.invalid"
    client_id: str | None = None
    client_secret: SecretStr | None = None
