"""Which base URL points where in the local stack: each platform setting at its sandbox prefix.

Production settings default to the real hosts; the local stack and the tests point
them at the platform sandbox (sandbox/<key>.py mounts these prefixes). Adding a
platform adds its entry here, next to its sandbox module.
"""

from __future__ import annotations

# Platform key -> {setting's environment name: sandbox path prefix}.
SANDBOX_PREFIXES: dict[str, dict[str, str]] = {
    "blotato": {"BLOTATO_API_BASE": "/blotato"},
    "facebook": {
        "FACEBOOK_GRAPH_BASE": "/facebook-graph",
        "FACEBOOK_RUPLOAD_BASE": "/rupload",
        "FACEBOOK_WWW_BASE": "/facebook-www",
    },
    "instagram": {
        "INSTAGRAM_GRAPH_BASE": "/instagram-graph",
        "INSTAGRAM_API_BASE": "/instagram-api",
        "INSTAGRAM_WWW_BASE": "/instagram-www",
    },
    "tiktok": {"TIKTOK_API_BASE": "/tiktok", "TIKTOK_WWW_BASE": "/tiktok-www"},
    # The OAuth hosts included: the provider reads the same settings class (see sandbox/youtube.py).
    "youtube": {
        "YOUTUBE_API_BASE": "/googleapis",
        "GOOGLE_AUTH_BASE": "/google-accounts",
        "GOOGLE_OAUTH_BASE": "/google-oauth2",
        "YOUTUBE_ANALYTICS_BASE": "/youtubeanalytics",
    },
}


def sandbox_env(sandbox_url: str) -> dict[str, str]:
    """Every platform's base-URL settings pointed at the sandbox at `sandbox_url`."""
    return {name: sandbox_url + prefix for prefixes in SANDBOX_PREFIXES.values() for name, prefix in prefixes.items()}
