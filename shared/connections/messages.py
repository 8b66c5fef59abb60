"""Every sentence a user can read about their connections, in one place."""

from __future__ import annotations

DISPLAY_NAMES = {
    "tiktok": "TikTok",
    "blotato": "TikTok (via Blotato)",
    "instagram": "Instagram",
    "facebook": "Facebook",
    "youtube": "YouTube",
}


def name(platform: str) -> str:
    return DISPLAY_NAMES.get(platform, platform.title())


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
    return (f"{name(platform)} did not accept the sign-in. Please start connecting again; "
            "if it keeps happening, contact support.")


def platform_unavailable(platform: str) -> str:
    return f"{name(platform)} is not answering right now. Please try connecting again in a few minutes."


def not_configured(platform: str) -> str:
    return f"Connecting {name(platform)} is not set up on this server yet. Please contact support."


INSTAGRAM_PERSONAL = (
    "Instagram Reels require a Business or Creator account, and this one is a personal account. "
    "To switch (free, takes a minute): in the Instagram app open Settings > Account type and tools > "
    "Switch to professional account, choose Creator or Business, then connect again. "
    "Guide: https://help.instagram.com/502981923235522"
)
YOUTUBE_NO_CHANNEL = (
    "This Google account has no YouTube channel yet, so there is nowhere to publish. "
    "Create one at https://www.youtube.com/create_channel, then connect again."
)
FACEBOOK_NO_PAGE = (
    "Facebook Reels are published to a Facebook Page, and this Facebook account does not manage any Page "
    "(or you did not allow access to one). Create a Page or ask to be made its admin, then connect again "
    "and select the Page."
)
BLOTATO_BAD_KEY = "Blotato did not accept this API key. Copy it again from Blotato > Settings > API and retry."
BLOTATO_NO_KEY = "Please enter your Blotato API key (Blotato > Settings > API)."
BLOTATO_NO_TIKTOK = (
    "Your Blotato account has no TikTok account connected. Connect TikTok inside Blotato first, then retry."
)
BLOTATO_CHOOSE = "Your Blotato account has several TikTok accounts. Please choose the one to publish to."
BLOTATO_UNKNOWN_ACCOUNT = "That TikTok account is not connected to your Blotato account. Please choose another."

CONNECTION_NOT_FOUND = "We could not find that connection. It may have been removed."


def reconnect_needed(platform: str) -> str:
    return (f"Your {name(platform)} connection expired. Please reconnect to publish. "
            "Your video will publish automatically after reconnecting.")


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
