"""What reaching a user's platform accounts takes: the vault that opens their stored tokens, and each
platform's connection provider. The application builds it once (shared/app.py `account_access`) and
hands it to the services that sign in, refresh, revoke or publish."""

from __future__ import annotations

from dataclasses import dataclass

from shared.connections.vault import TokenVault
from shared.platforms import ConnectionProviders


@dataclass(frozen=True)
class AccountAccess:
    vault: TokenVault
    providers: ConnectionProviders
