"""A small HTTP client for the shortpub functions, as the CLI uses them.

Every failure becomes a `CliError` whose message is the API's own plain-language
`message` (or an equally plain one for network trouble), never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import load

DEFAULT_API_URL = "http://127.0.0.1:8080"


class CliSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # Base URL of the functions: the local stack, or https://<region>-<project>.cloudfunctions.net
    shortpub_api_url: str = DEFAULT_API_URL
    # A Supabase access token of the user the CLI acts for.
    shortpub_token: SecretStr | None = None


class CliError(Exception):
    """Something to tell the user; `message` is already plain language."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


def _api_message(response: httpx.Response) -> CliError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]
        if response.status_code == 401:
            message += " (Set SHORTPUB_TOKEN to a fresh Supabase access token; see `shortpub --help`.)"
        return CliError(message, code=body.get("code"), status=response.status_code)
    return CliError(f"shortpub answered with an unexpected error ({response.status_code}). Please try again.",
                    status=response.status_code)


class ApiClient:
    def __init__(self, base_url: str, token: str | None, *, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    @classmethod
    def from_env(cls) -> ApiClient:
        settings = load(CliSettings)
        token = settings.shortpub_token.get_secret_value() if settings.shortpub_token else None
        return cls(settings.shortpub_api_url, token)

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError:
            raise CliError(
                f"Can't reach shortpub at {self.base_url}. Is it running (`make run`), and is SHORTPUB_API_URL "
                "right?"
            ) from None
        if response.status_code >= 400:
            raise _api_message(response)
        return response.json() if response.content else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.request("POST", path, json=body or {}, **kwargs)

    def upload(self, chunks: Iterator[bytes], *, filename: str, content_type: str, size: int,
               context: dict[str, str] | None = None) -> Any:
        """Stream a video file to POST /videos (raw body, not multipart); `context` rides the query."""
        headers = {"Content-Type": content_type, "X-Filename": filename, "Content-Length": str(size)}
        return self.request("POST", "/videos", content=chunks, headers=headers, timeout=None, params=context or {})
