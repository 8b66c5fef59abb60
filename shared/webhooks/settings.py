"""Webhook settings: how endpoint URLs are checked and how long a delivery may take."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import load


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # Let endpoints use http:// and private or loopback addresses; unset means only in local mode.
    webhook_allow_private_urls: bool | None = None
    # The product's ENVIRONMENT (read here too): private addresses are allowed by default only locally.
    environment: Literal["local", "test", "production"] = "local"
    # Seconds an endpoint has to answer one delivery.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @property
    def private_urls_allowed(self) -> bool:
        if self.webhook_allow_private_urls is None:
            return self.environment in ("local", "test")
        return self.webhook_allow_private_urls


def webhook_settings() -> WebhookSettings:
    return load(WebhookSettings)
