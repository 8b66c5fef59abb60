"""Which base URL points where in the local stack: each platform setting at its sandbox prefix.

Production settings default to the real hosts; the local stack and the tests point them at the
platform sandbox. Each simulator (sandbox/<key>.py) names its own settings and the paths it mounts
(`SETTINGS_PREFIXES`), so adding a platform touches nothing here.
"""

from __future__ import annotations


def sandbox_env(sandbox_url: str) -> dict[str, str]:
    """Every platform's base-URL settings pointed at the sandbox at `sandbox_url`."""
    from sandbox.server import platform_modules  # the local stack and the tests only: never deployed

    return {name: sandbox_url + prefix for module in platform_modules()
            for name, prefix in getattr(module, "SETTINGS_PREFIXES", {}).items()}
