"""Echo's answers, classified once."""

from __future__ import annotations

import httpx

from shared.platforms.errors import AuthError, PermanentError, PlatformError, TransientError

PLATFORM = "echo"
# code -> class; the OAuth mechanism asks it too.
CLASSES: dict[str, type[PlatformError]] = {"invalid_token": AuthError}


def error_class(code: str) -> type[PlatformError] | None:
    return CLASSES.get(code)


def error_from_response(response: httpx.Response) -> PlatformError:
    if response.status_code == 401:
        return AuthError("Your Echo connection expired.", platform=PLATFORM, code="401", status=401)
    if response.status_code >= 500:
        return TransientError("Echo is down; we'll retry.", platform=PLATFORM, code="5xx",
                              status=response.status_code)
    return PermanentError("Echo refused the post.", platform=PLATFORM, code=str(response.status_code),
                          detail=response.text[:200], status=response.status_code)
