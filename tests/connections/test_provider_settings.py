"""Each platform has one settings class: connecting reads the same env names as publishing."""

from __future__ import annotations

import pytest

from shared.local.environment import sandbox_env
from shared.platforms import adapters, provider, providers
from shared.platforms.oauth import OAuthProvider

SANDBOX = "http://sandbox.test"
OAUTH_KEYS = sorted(key for key, cls in providers().items() if issubclass(cls, OAuthProvider))


def test_every_platform_has_a_provider_reading_the_platforms_own_settings() -> None:
    assert set(providers()) == set(adapters())
    for key in providers():
        assert provider(key).settings.__class__ is adapters()[key].settings_class


@pytest.mark.parametrize("key", OAUTH_KEYS)
def test_the_local_stack_points_every_oauth_host_at_the_sandbox(key, monkeypatch) -> None:
    for name, url in sandbox_env(SANDBOX).items():
        monkeypatch.setenv(name, url)
    app = provider(key).app
    for host in (app.auth_base, app.token_base, app.api_base):
        assert host.startswith(SANDBOX + "/"), (key, host)


@pytest.mark.parametrize("key", OAUTH_KEYS)
def test_app_credentials_come_from_the_documented_names(key) -> None:
    # tests/connections/conftest.py sets the app credentials under their one documented name each.
    app = provider(key).app
    assert app.client_id.startswith("sbx-") and app.client_secret.startswith("sbx-"), key


def test_blotato_provider_uses_the_platform_api_key(monkeypatch) -> None:
    monkeypatch.setenv("BLOTATO_API_KEY", "platform-key")
    assert provider("blotato").key_to_use(None) == "platform-key"  # type: ignore[attr-defined]
    assert provider("blotato").key_to_use("user-key") == "user-key"  # type: ignore[attr-defined]


def test_the_application_builds_each_provider_once_with_its_http_client(make_app) -> None:
    """A sign-in, a refresh or a revoke reuses the provider and its client (a new one costs ~20 ms)."""
    app = make_app()
    for key in providers():
        first = app.account_access.providers(key)
        assert app.account_access.providers(key) is first
        assert first.http is app.account_access.providers(key).http
    assert make_app().account_access.providers("tiktok") is not app.account_access.providers("tiktok")


def test_every_platform_s_sandbox_names_each_base_url_setting_it_stands_in_for() -> None:
    """Adding a platform adds its simulator with its SETTINGS_PREFIXES; nothing else lists its URLs."""
    pointed = set(sandbox_env(SANDBOX))
    for key in providers():
        settings = adapters()[key].settings_class
        prefix = str(settings.model_config.get("env_prefix") or "")
        bases = {str(info.validation_alias) if isinstance(info.validation_alias, str) else f"{prefix}{name}".upper()
                 for name, info in settings.model_fields.items() if name.endswith("_base")}
        assert bases <= pointed, (key, bases - pointed)
