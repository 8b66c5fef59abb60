"""OAuth answers are classified by the platform's own error table, the one publishing uses."""

from __future__ import annotations

import pytest

from shared.platforms import providers
from shared.platforms.errors import AuthError
from shared.platforms.oauth import OAuthProvider
from shared.platforms.registry import registry

OAUTH = sorted(key for key, cls in providers().items() if issubclass(cls, OAuthProvider))
# A code each platform's error table calls auth, and one it calls something else.
SAMPLES = {
    "tiktok": ("access_token_invalid", "rate_limit_exceeded"),
    "instagram": ("190", "4"),
    "facebook": ("190", "4"),
    "youtube": ("invalid_rapt", "quotaExceeded"),
}


@pytest.mark.parametrize("key", OAUTH)
def test_a_code_means_the_same_when_connecting_as_when_publishing(key) -> None:
    platform = registry()[key]
    gone, other = SAMPLES[key]
    assert platform.errors.error_class(gone) is AuthError
    assert platform.errors.error_class(other) is not AuthError
    assert platform.provider.ERRORS is platform.errors
    provider = platform.provider.__new__(platform.provider)   # classification reads no settings
    assert provider.grant_gone(gone) and provider.grant_gone("invalid_grant")
    assert not provider.grant_gone(other) and not provider.grant_gone("invalid_client")


def test_every_oauth_platform_has_samples() -> None:
    assert set(SAMPLES) == set(OAUTH)
