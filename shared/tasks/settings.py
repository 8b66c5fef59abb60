"""Settings of the task queue (Cloud Tasks in production, the emulator or inline locally)."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class TasksSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # cloud: Google Cloud Tasks (or the emulator when CLOUD_TASKS_EMULATOR_HOST is set);
    # inline: tasks run in-process (tests, scripts). Unset: cloud in production or when an
    # emulator is configured, inline otherwise.
    tasks_backend: Literal["cloud", "inline"] | None = None
    google_cloud_project: str | None = None
    tasks_location: str = "us-central1"
    # Service account Cloud Tasks signs OIDC tokens as; its email is checked on delivery.
    tasks_service_account: str | None = None
    # OIDC audience put in each task and required on delivery.
    tasks_audience: str | None = None
    # Set by the deploy on private functions (deployed with Cloud Run's invoker IAM check on):
    # Cloud Run has verified the token's signature, so a signature-removed token is checked
    # by its claims only. Never set it on a function anyone may call.
    tasks_invoker_iam_check: bool = False
    # host:port of the local Cloud Tasks emulator (insecure gRPC).
    cloud_tasks_emulator_host: str | None = None
