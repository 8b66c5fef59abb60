"""What the application hands to services in production, for tests that call a service directly:
the token vault and the functions' base URL, both from the test environment."""

from __future__ import annotations

from shared.config import CoreSettings, load
from shared.connections.vault import TokenVault, from_env


def vault() -> TokenVault:
    return from_env()


def base_url() -> str:
    return load(CoreSettings).functions_base_url
