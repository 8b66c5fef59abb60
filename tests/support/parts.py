"""What the application hands to services in production, for tests that call a service directly:
the token vault (and with it each platform's connection provider) and the functions' base URL, all
from the test environment as it is when they are asked for."""

from __future__ import annotations

from shared.config import CoreSettings, load
from shared.connections.access import AccountAccess
from shared.connections.vault import TokenVault, from_env
from shared.platforms import ConnectionProviders


def vault() -> TokenVault:
    return from_env()


def access() -> AccountAccess:
    return AccountAccess(from_env(), ConnectionProviders())


def base_url() -> str:
    return load(CoreSettings).functions_base_url
