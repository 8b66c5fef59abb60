"""The sentences every platform shares, each written once; `name` is how users name the platform.

Platform-specific sentences live in the platform's own package; these are the ones
the OAuth mechanism, the error tables and the connection pages all say the same way.
"""

from __future__ import annotations


def connection_expired(name: str) -> str:
    """The grant is gone: the user must reconnect; parked posts resume by themselves."""
    return (f"Your {name} connection expired. Please reconnect to publish. "
            "Your video will publish automatically after reconnecting.")


def sign_in_refused(name: str) -> str:
    return (f"{name} did not accept the sign-in. Please start connecting again; "
            "if it keeps happening, contact support.")


def unavailable(name: str) -> str:
    return f"{name} is not answering right now. Please try connecting again in a few minutes."


def not_configured(name: str) -> str:
    return f"Connecting {name} is not set up on this server yet. Please contact support."
