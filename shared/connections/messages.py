"""Every sentence a user can read about their connections, in one place."""

from __future__ import annotations

from shared.platforms import messages as platform_messages
from shared.platforms.blotato.oauth import BAD_KEY as BLOTATO_BAD_KEY  # functions/connections.py matches on it
from shared.platforms.registry import registry

__all__ = ["BLOTATO_BAD_KEY"]


def name(platform: str) -> str:
    """How users name the platform in connection sentences ("YouTube"), from its descriptor."""
    found = registry().get(platform)
    return found.name if found else platform.title()


STATE_MISSING = "This sign-in link is missing its security check. Please start connecting again."
STATE_UNKNOWN = "This sign-in link is not valid. Please start connecting again."
STATE_REUSED = "This sign-in link was already used. Please start connecting again."
STATE_EXPIRED = "This sign-in link expired (they last 10 minutes). Please start connecting again."
STATE_OTHER_USER = "This sign-in link was started from a different account. Please start connecting again."


def state_other_platform(platform: str) -> str:
    return f"This sign-in link was not meant for {name(platform)}. Please start connecting again."


def cancelled(platform: str) -> str:
    return f"You cancelled connecting {name(platform)}. Nothing was changed. You can connect again any time."


def platform_refused(platform: str) -> str:
    return platform_messages.sign_in_refused(name(platform))


CONNECTION_NOT_FOUND = "We could not find that connection. It may have been removed."


def reconnect_needed(platform: str) -> str:
    return platform_messages.connection_expired(name(platform))


def disconnected(platform: str) -> str:
    return f"Your {name(platform)} account is disconnected. Connect it again to publish there."


def expiring_subject(platform: str) -> str:
    return f"Your {name(platform)} connection expires soon"


def expiring_body(platform: str, account: str, expires_on: str) -> str:
    return (
        f"Hi,\n\nYour {name(platform)} connection ({account}) will stop working on {expires_on}. "
        f"{name(platform)} does not let us renew it without you.\n\n"
        "To keep publishing without interruption, open shortpub, go to Connections and click "
        f"\"Reconnect\" next to {name(platform)}. It takes less than a minute.\n\n— shortpub"
    )


def expired_subject(platform: str) -> str:
    return f"Your {name(platform)} connection expired"


def expired_body(platform: str, account: str) -> str:
    return (
        f"Hi,\n\nYour {name(platform)} connection ({account}) expired or was revoked, so we cannot publish "
        f"there right now.\n\nOpen shortpub, go to Connections and click \"Reconnect\" next to {name(platform)}. "
        "Any posts waiting for this account will publish automatically after you reconnect.\n\n— shortpub"
    )
