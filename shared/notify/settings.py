"""Mail settings: the SMTP relay that delivers the notifications outbox."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # Upgrade the connection with STARTTLS before logging in (port 587 relays).
    smtp_starttls: bool = False
    # Seconds to wait on the relay before giving up (the mail is retried on the next drain).
    smtp_timeout: float = Field(default=20.0, gt=0)
    mail_from: str = "shortpub <no-reply@shortpub.local>"
