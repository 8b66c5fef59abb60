"""The settings of the local stack: ports, generated secrets, and every base URL on the sandbox."""

from __future__ import annotations

import socket

from shared.local.sandbox_env import sandbox_env  # noqa: F401 - where the stack and tests import it

DEFAULT_PORTS = {"functions": 8080, "sandbox": 8700, "storage": 8701, "smtp": 8025, "tasks": 9022}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_or_free(preferred: int) -> int:
    """The preferred port when it is free, else any free port (a second stack can run beside)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            pass
    return free_port()


# App credentials the sandbox accepts; real ones come from Secret Manager in production.
SANDBOX_APPS = {
    "TIKTOK_CLIENT_KEY": "sandbox-tiktok-client",
    "TIKTOK_CLIENT_SECRET": "sandbox-tiktok-secret",
    "INSTAGRAM_APP_ID": "sandbox-instagram-app",
    "INSTAGRAM_APP_SECRET": "sandbox-instagram-secret",
    "FACEBOOK_APP_ID": "sandbox-facebook-app",
    "FACEBOOK_APP_SECRET": "sandbox-facebook-secret",
    "GOOGLE_CLIENT_ID": "sandbox-google-client",
    "GOOGLE_CLIENT_SECRET": "sandbox-google-secret",
}
