"""How long the pipeline keeps asking a platform about a call whose outcome is unknown."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PublishingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PUBLISH_", env_file=None, extra="ignore", case_sensitive=False)

    # After a call whose outcome is unknown (the video may be live), keep asking the platform
    # this long before telling the user to check the platform themselves. Never a blind resend.
    reconcile_hours: float = Field(default=24.0, gt=0)
    # Once the quick retries (1, 5, 15 min) are used up: how often to ask again.
    reconcile_poll_seconds: float = Field(default=900.0, gt=0)
