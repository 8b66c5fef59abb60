"""Caption suggestion settings: which engine writes them, Gemini's access, the daily cap."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CaptionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # auto: Gemini when an API key or Vertex AI is configured, else the built-in local writer.
    captions_engine: Literal["auto", "gemini", "local"] = "auto"
    # Suggestion requests a user may make per day (UTC); the next one gets a 429.
    captions_daily_limit: int = Field(default=100, ge=0)
    # Gemini API key (Google AI Studio). Leave empty to use Vertex AI or the local writer.
    gemini_api_key: SecretStr | None = None
    # true: call Gemini through Vertex AI with the service account (Application Default Credentials).
    gemini_use_vertex: bool = False
    # The Google Cloud project Vertex AI bills (GOOGLE_CLOUD_PROJECT, shared with Cloud Tasks).
    google_cloud_project: str | None = None
    # Vertex AI region of the model, e.g. us-central1 or global.
    gemini_vertex_location: str = "us-central1"
    gemini_model: str = "gemini-2.5-flash"
    # Another endpoint for the SDK (the local sandbox's stand-in); empty: Google's.
    gemini_base_url: str | None = None
    # Seconds one Gemini call may take before it counts as failed.
    gemini_timeout_seconds: float = Field(default=20.0, gt=0)
    # Attempts per request, the first included; 429 and 5xx are retried with backoff.
    gemini_max_attempts: int = Field(default=3, ge=1, le=10)
    # First retry delay in seconds; it doubles with each attempt.
    gemini_retry_delay_seconds: float = Field(default=1.0, ge=0)

    @property
    def gemini_configured(self) -> bool:
        return bool(self.gemini_api_key and self.gemini_api_key.get_secret_value()) or self.gemini_use_vertex

    @property
    def engine(self) -> Literal["gemini", "local"]:
        if self.captions_engine == "auto":
            return "gemini" if self.gemini_configured else "local"
        return self.captions_engine

