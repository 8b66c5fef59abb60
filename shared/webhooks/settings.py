"""Webhook settings: how endpoint URLs are checked and how long a delivery may take."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.app import application
from shared.config import load


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # Let endpoints use http:// and private or loopback addresses; unset means only in local mode.
    webhook_allow_private_urls: bool | None = None
    # Seconds an endpoint has to answer one delivery.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @property
    def private_urls_allowed(self) -> bool:
        if self.webhook_allow_private_urls is None:
            return application().settings.is_local
        return self.webhook_allow_private_urls


def webhook_settings() -> WebhookSettings:
    return load(WebhookSettings)
